"""Turning a loaded YAML document into typed pydantic models, with every error placed."""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from stockpot.core.errors import InvalidDocument, Problem
from stockpot.core.yaml_source import (
    MEGABYTE,
    YAML_MAX_BYTES,
    Path,
    YamlDocument,
    yaml_too_large,
)

ModelT = TypeVar("ModelT", bound=BaseModel)


class DocumentModel(BaseModel):
    """Base of the input-file models: unknown keys are errors (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key; check its spelling against the documented format"
    if kind == "missing":
        return "is required"
    return str(error["msg"])


def _problems(document: YamlDocument, path: Path, error: ValidationError) -> list[Problem]:
    return [document.problem((*path, *item["loc"]), _message(item)) for item in error.errors()]


def parse_document(document: YamlDocument, model: type[ModelT]) -> ModelT:
    if not isinstance(document.data, dict):
        raise InvalidDocument(document.source, [document.problem((), "expected a mapping of keys")])
    try:
        return model.model_validate(document.data)
    except ValidationError as error:
        raise InvalidDocument(document.source, _problems(document, (), error)) from None


def parse_each(
    document: YamlDocument, path: Path, items: Sequence[Any], model: type[ModelT]
) -> tuple[list[tuple[int, ModelT]], list[Problem]]:
    """Validate list entries one by one, so one bad entry does not hide the others' errors."""
    parsed: list[tuple[int, ModelT]] = []
    problems: list[Problem] = []
    for index, item in enumerate(items):
        try:
            parsed.append((index, model.model_validate(item)))
        except ValidationError as error:
            problems.extend(_problems(document, (*path, index), error))
    return parsed, problems


TEXT_FILE_MAX_BYTES = 64 * MEGABYTE
"""The largest file a command reads whole (a catalog, mappings, a stock file, a day's lines):
a 200,000-line day's JSON is about 40 MB. Parsing holds several times a file's size (YAML's
node tree far more), so a file given by mistake (a database dump, a disk image) is refused by
its size before a byte is read, instead of exhausting the host's memory."""


def _too_large_to_read(size: int | None) -> str:
    return (
        f"the file is larger than {TEXT_FILE_MAX_BYTES // MEGABYTE} MB, the most read at once; "
        "check that it is the file you meant, or split it (a catalog by company, "
        "mappings by connection)"
    )


def read_text_file(
    path: pathlib.Path,
    *,
    source: str | None = None,
    max_bytes: int = TEXT_FILE_MAX_BYTES,
    too_large: Callable[[int | None], str] = _too_large_to_read,
) -> str:
    """An input file's text: UTF-8, with or without the BOM Windows editors write. Any other
    bytes are an ``InvalidDocument`` naming the line of the first one (a cp1252 or binary
    file ended in a ``UnicodeDecodeError`` traceback); a file over ``max_bytes`` is one
    saying ``too_large`` of its size, refused by it before a byte is read (a device or a pipe,
    which has none, once ``max_bytes`` are read)."""
    name = source or str(path)
    stated = path.stat().st_size
    if stated > max_bytes:
        raise InvalidDocument(name, [Problem("", too_large(stated))])
    with path.open("rb") as file:
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InvalidDocument(name, [Problem("", too_large(None))])
    return text_of(data, source=name)


def text_of(data: bytes, *, source: str) -> str:
    """A file's bytes as UTF-8 text (with or without a BOM), else an ``InvalidDocument``
    naming the line of the first byte that is not: one rule for a file given to the CLI
    and one shared in Slack."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        message = (
            f"not UTF-8 text (byte 0x{data[error.start]:02x} is not UTF-8); save the file "
            "as UTF-8 (in Excel: CSV UTF-8; in an editor: Save with encoding UTF-8)"
        )
        raise InvalidDocument(source, [Problem("", message, line)]) from None


def read_yaml_file(path: pathlib.Path, *, source: str | None = None) -> str:
    """A YAML file's text, at most ``YAML_MAX_BYTES`` of it (``read_text_file``)."""
    return read_text_file(path, source=source, max_bytes=YAML_MAX_BYTES, too_large=yaml_too_large)
