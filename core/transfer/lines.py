"""Normalised sales lines: the shape every POS source is turned into before the engine."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from stockpot.core.errors import InvalidDocument, Problem
from stockpot.core.exact import format_decimal, parse_decimal
from stockpot.core.lookup import name_problem
from stockpot.core.quantities import quantity_problem
from stockpot.core.words import grouped


class LineKind(StrEnum):
    ITEM = "item"
    MODIFIER = "modifier"
    MENU_COMPONENT = "menu_component"
    TOPPING = "topping"
    NON_ITEM = "non_item"
    """Tips, deposits, fees, discounts: never inventory."""


NAME_KEY = "name:"
"""How the key of an item without a code begins."""


def item_key(pos_code: str | None, name: str) -> str:
    """A POS item's identity: its code or id; only a line without one is keyed by its name.

    Names are normalised (case and inner white space) so "Glass  of red" and "glass of red"
    are the same unmatched article.
    """
    code = (pos_code or "").strip()
    if code:
        return code
    return NAME_KEY + " ".join(name.split()).casefold()


KEY_MAX, CODE_MAX, NAME_MAX = 300, 200, 300
"""The longest key, code and name ``pos_item`` holds."""


def stored_name(name: str, limit: int = NAME_MAX) -> str:
    """A POS's name as Stockpot keeps it (``pos_item``'s, or a location's with its own
    ``limit``): a NUL (PostgreSQL refuses one) shown as ``�`` and a longer name clipped. A
    name only labels its row, so a POS's overlong or odd name never stops a day or a sync
    (each failed as an internal error)."""
    name = name.replace("\0", "\ufffd")
    return name if len(name) <= limit else name[: limit - 1] + "…"


def item_problem(key: str, code: str | None, name: str) -> str | None:
    """Why an item (a sales line's, a POS catalog's) cannot be kept in ``pos_item``, or
    ``None``. Its key is its identity, so it is never clipped: two items could become one."""
    if code is not None and ("\0" in code or len(code) > CODE_MAX):
        shown = code.replace("\0", "\ufffd")[:40]
        return (
            f"the item code '{shown}…' ({grouped(len(code))} characters) cannot be kept: codes "
            f"have at most {CODE_MAX} characters and no NUL; correct the item in the POS"
        )
    if "\0" in key or len(key) > KEY_MAX:
        too_long = _long_key(key) if key.startswith(NAME_KEY) else None
        what = too_long or f"identity '{key[:40].replace(chr(0), chr(0xFFFD))}…' cannot be kept"
        return f"the item has no code and its {what}; give it a code or a shorter name"
    return None


def key_problem(pos_code: str | None, name: str) -> str | None:
    """Why the item of a line without a code cannot be stored, or ``None``: its key is the
    case-folded name, and folding can lengthen it (``ß`` is ``ss``), so 200 characters of
    name made a key PostgreSQL refused mid-transfer."""
    return _long_key(item_key(pos_code, name))


def _long_key(key: str) -> str | None:
    if len(key) <= KEY_MAX:
        return None
    return (
        f"'name' is {grouped(len(key) - len(NAME_KEY))} characters long when compared "
        f"regardless of case (ß is ss); at most {KEY_MAX - len(NAME_KEY)} are accepted"
    )


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


TEXT_MAX = CODE_MAX
"""The longest code, name or id a sales line file may carry: a POS item's code is stored in
``CODE_MAX`` characters (PostgreSQL refused a longer one mid-transfer)."""


_SURROGATE = re.compile("[\ud800-\udfff]")
"""Half of a UTF-16 pair: JSON's ``\\ud83d`` alone reads as one, which no database stores."""


def _text(value: Any) -> str | None:
    """A line's code, name or id as text; ``ValueError`` saying why it cannot be one: NUL
    (PostgreSQL refuses it), line breaks and bidirectional controls are refused as in every
    name Stockpot stores."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        shown = value if isinstance(value, Decimal) else repr(value)
        raise ValueError(f"must be a string, got {shown}")
    text = str(value).strip()
    if len(text) > TEXT_MAX:
        raise ValueError(f"has {grouped(len(text))} characters; at most {TEXT_MAX} are accepted")
    problem = name_problem(text)
    if problem is not None:
        raise ValueError(problem.replace("a name ", "", 1))
    surrogate = None if text.isascii() else _SURROGATE.search(text)
    if surrogate is not None:
        raise ValueError(
            f"holds half a character (the escape \\u{ord(surrogate.group()):04x} alone); write the "
            "character itself or both halves of its escape"
        )
    return text


def line_from_json(data: Any) -> SaleLine:
    """One line from its JSON object; raises ``ValueError`` with every problem in it."""
    if not isinstance(data, dict):
        raise ValueError(f"a line must be an object, got {type(data).__name__}")
    problems = [f"'{key}' is given twice; give it once" for key in getattr(data, "twice", ())]
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
    if not problems:
        too_long = key_problem(fields.get("pos_code"), fields.get("name") or "")
        if too_long is not None:
            problems.append(too_long)
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


class _JsonObject(dict[str, Any]):
    """A JSON object that remembers the keys it was given more than once (``json`` keeps
    the last silently: ``"quantity": 1, "quantity": 100`` would be 100 without a word)."""

    twice: tuple[str, ...] = ()


def _json_object(pairs: list[tuple[str, Any]]) -> _JsonObject:
    result = _JsonObject(pairs)
    if len(result) != len(pairs):
        keys = [key for key, _ in pairs]
        result.twice = tuple(sorted({key for key in keys if keys.count(key) > 1}))
    return result


JSON_INT_DIGITS = 40
"""Longer JSON integers are read as decimals, which the quantity and text rules refuse with
their place: ``int`` refuses more than 4300 digits with a bare ``ValueError``."""


def _json_int(text: str) -> int | Decimal:
    return int(text) if len(text) <= JSON_INT_DIGITS else Decimal(text)


def _load_json(text: str) -> Any:
    """JSON numbers as exact decimals (a float rounds ``123456789.123456789`` to
    ``123456789.12345679`` without a word; ``1e400`` to infinity), ``NaN`` and ``Infinity``
    as Decimal's, which the quantity rule refuses."""
    return json.loads(
        text,
        parse_float=Decimal,
        parse_int=_json_int,
        parse_constant=Decimal,
        object_pairs_hook=_json_object,
    )


def parse_lines_file(text: str, *, source: str) -> list[SaleLine]:
    try:
        items = _load_json(text)
    except json.JSONDecodeError as error:
        raise InvalidDocument(
            source, [Problem("", f"not valid JSON: {error.msg}", line=error.lineno)]
        ) from None
    except RecursionError:
        problem = Problem(
            "",
            "arrays or objects are nested too deeply; a sales-lines file is one array of "
            "flat objects",
        )
        raise InvalidDocument(source, [problem]) from None
    return lines_from_json(items, source=source)


def lines_to_json(lines: Iterable[SaleLine]) -> list[dict[str, Any]]:
    return [line.to_json() for line in lines]
