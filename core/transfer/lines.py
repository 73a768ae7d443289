"""Normalised sales lines: the shape every POS source is turned into before the engine."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from stockpot.core.errors import InvalidDocument, Problem
from stockpot.core.exact import format_decimal, parse_decimal
from stockpot.core.quantities import quantity_problem


class LineKind(StrEnum):
    ITEM = "item"
    MODIFIER = "modifier"
    MENU_COMPONENT = "menu_component"
    TOPPING = "topping"
    NON_ITEM = "non_item"
    """Tips, deposits, fees, discounts: never inventory."""


def item_key(pos_code: str | None, name: str) -> str:
    """A POS item's identity: its code or id; only a line without one is keyed by its name.

    Names are normalised (case and inner white space) so "Glass  of red" and "glass of red"
    are the same unmatched article.
    """
    code = (pos_code or "").strip()
    if code:
        return code
    return "name:" + " ".join(name.split()).casefold()


@dataclass(frozen=True)
class RawInput:
    """The POS payload as received, stored with the run for audit and reruns."""

    source: str
    body: str


@dataclass(frozen=True, slots=True)
class SaleLine:
    sale_id: str
    line_id: str
    pos_code: str | None
    name: str
    quantity: Decimal
    parent_line_id: str | None = None
    voided: bool = False
    cancelled: bool = False
    kind: LineKind = LineKind.ITEM
    skip_reason: str | None = None
    """Set by a connector whose rules exclude the line (e.g. a refund not put back in stock)."""
    key: str = field(init=False, repr=False, compare=False)
    """The item's identity (``item_key``), computed once: every step of a transfer reads it."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", item_key(self.pos_code, self.name))

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "sale_id": self.sale_id,
            "line_id": self.line_id,
            "pos_code": self.pos_code,
            "name": self.name,
            "quantity": format_decimal(self.quantity),
        }
        if self.parent_line_id is not None:
            data["parent_line_id"] = self.parent_line_id
        if self.voided:
            data["voided"] = True
        if self.cancelled:
            data["cancelled"] = True
        if self.kind is not LineKind.ITEM:
            data["kind"] = self.kind.value
        if self.skip_reason is not None:
            data["skip_reason"] = self.skip_reason
        return data


_REQUIRED = ("sale_id", "line_id", "quantity")
_KNOWN = {
    *_REQUIRED,
    "pos_code",
    "name",
    "parent_line_id",
    "voided",
    "cancelled",
    "kind",
    "skip_reason",
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"must be a string, got {value!r}")
    return str(value).strip()


def line_from_json(data: Any) -> SaleLine:
    """One line from its JSON object; raises ``ValueError`` with every problem in it."""
    if not isinstance(data, dict):
        raise ValueError(f"a line must be an object, got {type(data).__name__}")
    problems: list[str] = []
    for name in _REQUIRED:
        if data.get(name) in (None, ""):
            problems.append(f"'{name}' is missing")
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        known = ", ".join(sorted(_KNOWN))
        problems.append(f"unknown field(s) {', '.join(unknown)}; known fields: {known}")
    fields: dict[str, Any] = {}
    for name in ("sale_id", "line_id", "pos_code", "name", "parent_line_id", "skip_reason"):
        try:
            fields[name] = _text(data.get(name))
        except ValueError as error:
            problems.append(f"'{name}' {error}")
    if not fields.get("pos_code") and not fields.get("name") and not problems:
        problems.append("a line needs a 'pos_code' or, failing that, a 'name'")
    quantity = Decimal(0)
    if data.get("quantity") not in (None, ""):
        try:
            quantity = parse_decimal(data["quantity"], what="'quantity'")
            problem = quantity_problem(quantity)
            if problem is not None:
                problems.append(f"'quantity' {problem}")
        except ValueError as error:
            problems.append(str(error))
    flags: dict[str, bool] = {}
    for name in ("voided", "cancelled"):
        value = data.get(name, False)
        if not isinstance(value, bool):
            problems.append(f"'{name}' must be true or false, got {value!r}")
        flags[name] = bool(value)
    kind = LineKind.ITEM
    if "kind" in data:
        try:
            kind = LineKind(data["kind"])
        except ValueError:
            problems.append(
                f"'kind' {data['kind']!r} is not one of {', '.join(k.value for k in LineKind)}"
            )
    if problems:
        raise ValueError("; ".join(problems))
    return SaleLine(
        sale_id=fields["sale_id"] or "",
        line_id=fields["line_id"] or "",
        pos_code=fields["pos_code"] or None,
        name=fields["name"] or fields["pos_code"] or "",
        quantity=quantity,
        parent_line_id=fields["parent_line_id"] or None,
        voided=flags["voided"],
        cancelled=flags["cancelled"],
        kind=kind,
        skip_reason=fields["skip_reason"] or None,
    )


def lines_from_json(items: Any, *, source: str) -> list[SaleLine]:
    """Every line of a JSON array, or ``InvalidDocument`` listing each bad line by index."""
    if not isinstance(items, list):
        raise InvalidDocument(source, [Problem("", "expected a JSON array of sales lines")])
    lines: list[SaleLine] = []
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for index, data in enumerate(items):
        try:
            line = line_from_json(data)
        except ValueError as error:
            problems.append(Problem(f"[{index}]", str(error)))
            continue
        identity = (line.sale_id, line.line_id)
        if identity in seen:
            duplicate = f"line '{line.line_id}' of sale '{line.sale_id}' appears twice"
            problems.append(Problem(f"[{index}]", duplicate))
        seen.add(identity)
        lines.append(line)
    if problems:
        raise InvalidDocument(source, problems)
    return lines


def parse_lines_file(text: str, *, source: str) -> list[SaleLine]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidDocument(
            source, [Problem("", f"not valid JSON: {error.msg}", line=error.lineno)]
        ) from None
    return lines_from_json(items, source=source)


def lines_to_json(lines: Iterable[SaleLine]) -> list[dict[str, Any]]:
    return [line.to_json() for line in lines]
