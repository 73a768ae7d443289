"""Reading SIDES answers, decoded by ``json``, whose shape is not guaranteed: each field
Stockpot reads (in either spelling, see ``api.field``) is checked for its JSON type where it
is read, a wrong one raising ``WrongShape`` with its path. Fields only turned into text
(ids, names) are read as any type, as before; containers and numbers are checked."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from stockpot.core.pos.base import WrongShape
from stockpot.core.pos.sides.api import field, spelled

T = TypeVar("T")
_SCALARS = (int, float, str)


def obj(value: Any) -> dict[str, Any]:
    """A whole answer, which is an object."""
    if type(value) is not dict:
        raise WrongShape("object", value)
    return value


def within(data: dict[str, Any], name: str, read: Callable[[dict[str, Any]], T]) -> T:
    """``read`` of the object ``data[name]`` (null or absent: an empty one)."""
    value = field(data, name)
    if value is None:
        value = {}
    elif type(value) is not dict:
        raise WrongShape("object | null", value, spelled(data, name))
    try:
        return read(value)
    except WrongShape as error:
        raise error.inside(spelled(data, name)) from None


def list_field(data: dict[str, Any], name: str) -> list[Any]:
    """The list ``data[name]`` (null or absent: an empty one)."""
    items = field(data, name)
    if items is None:
        return []
    if type(items) is not list:
        raise WrongShape("array | null", items, spelled(data, name))
    return items


def each(data: dict[str, Any], name: str, read: Callable[[dict[str, Any]], T]) -> list[T]:
    """``read`` of every object of the list ``data[name]`` (null or absent: none)."""
    read_items = []
    for index, item in enumerate(list_field(data, name)):
        try:
            if type(item) is not dict:
                raise WrongShape("object", item)
            read_items.append(read(item))
        except WrongShape as error:
            raise error.inside(spelled(data, name), index) from None
    return read_items


def decimal_field(data: dict[str, Any], name: str) -> Decimal:
    """A number (or a string holding one), exactly as written; null or absent: 0."""
    value = field(data, name)
    if type(value) is int:  # the common case, first
        return Decimal(value)
    if value is None:
        return Decimal(0)
    if type(value) in _SCALARS:
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            pass
        else:
            if number.is_finite():
                return number
    raise WrongShape("number", value, spelled(data, name))


def int_field(data: dict[str, Any], name: str) -> int | None:
    """A whole number (or a string holding one); null or absent: ``None``."""
    value = field(data, name)
    if value is None:
        return None
    if type(value) in _SCALARS:
        try:
            return int(value)
        except (ValueError, OverflowError):
            pass
    raise WrongShape("int | null", value, spelled(data, name))


def text_field(data: dict[str, Any], name: str) -> str:
    """A string that must be there."""
    value = field(data, name)
    if type(value) is not str:
        raise WrongShape("str", value, spelled(data, name))
    return value


def optional_text_field(data: dict[str, Any], name: str, *, numbers: bool = False) -> str | None:
    """A string, or null or absent: ``None``; with ``numbers``, a number is read as its
    text (``105`` as ``"105"``)."""
    value = field(data, name)
    if value is None or type(value) is str:
        return value
    if numbers and type(value) in (int, float):
        return str(value)
    raise WrongShape("str | null", value, spelled(data, name))
