"""Turning a loaded YAML document into typed pydantic models, with every error placed."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from core.errors import InvalidDocument
from core.yaml_source import YamlDocument

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


def parse_document(document: YamlDocument, model: type[ModelT]) -> ModelT:
    if not isinstance(document.data, dict):
        raise InvalidDocument(document.source, [document.problem((), "expected a mapping of keys")])
    try:
        return model.model_validate(document.data)
    except ValidationError as error:
        problems = [document.problem(tuple(item["loc"]), _message(item)) for item in error.errors()]
        raise InvalidDocument(document.source, problems) from None
