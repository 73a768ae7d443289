"""Turning a loaded YAML document into typed pydantic models, with every error placed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from stockpot.core.errors import InvalidDocument, Problem
from stockpot.core.yaml_source import Path, YamlDocument

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
