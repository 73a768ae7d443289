"""Reading YAML input files: exact decimals, and the line of every value for error messages."""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import yaml

from stockpot.core.errors import InvalidDocument, Problem
from stockpot.core.lookup import nul_problem

Path = tuple[str | int, ...]


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it (ten times faster), else the pure one."""


class _DecimalLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """Safe YAML, but ``0.75`` becomes ``Decimal("0.75")``, never a float."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """A value its tag cannot be built from is a YAML error with its line: a date that
        is no date (``2026-02-30``), ``!!int x`` or ``!!float x`` raised ``datetime``'s or
        ``int``'s ``ValueError`` (or ``decimal.InvalidOperation``) out of the loader."""
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, ArithmeticError, LookupError, AttributeError, TypeError) as error:
            kind = node.tag.rsplit(":", 1)[-1]
            value = repr(node.value) if isinstance(node, yaml.ScalarNode) else "the value"
            why = f" ({error})" if kind == "timestamp" and type(error) is ValueError else ""
            raise yaml.constructor.ConstructorError(
                None, None, f"{value} is not a valid {kind}{why}", node.start_mark
            ) from None


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal | str:
    """A decimal; YAML's ``.nan`` and ``.inf`` stay the text written, which the number rule
    refuses as it refuses a typed ``NaN``, quoting it (``'.nan' is not a number; …``): made
    Decimal's NaN, it was named "NaN", which nobody wrote."""
    written = str(loader.construct_scalar(node))
    if ":" in written:
        return written  # sexagesimal (``_construct_int``)
    text = written.replace("_", "").lower()
    if text.lstrip("+-") in (".nan", ".inf"):
        return written
    return Decimal(text)


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)

INT_DIGITS = 40
"""Longer integers are refused where they are read: Python refuses to read one of more
than 4300 digits with a ``ValueError`` PyYAML does not turn into a YAML error (a traceback),
and no number Stockpot reads has more than 18 digits."""


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | str:
    """An integer; ``6:30`` stays the text it is (YAML 1.2): YAML 1.1 reads it in base 60 as
    390, which a time field took as 00:06:30, a day start six minutes past midnight."""
    text = str(loader.construct_scalar(node))
    if ":" in text:
        return text
    if len(text) > INT_DIGITS:
        raise yaml.constructor.ConstructorError(
            None, None, f"an integer of {len(text)} characters is too long", node.start_mark
        )
    return int(yaml.SafeLoader.construct_yaml_int(loader, node))


_DecimalLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _refuse_binary(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
    """``!!binary`` bytes became text through pydantic unchecked (a NUL in an address, which
    PostgreSQL refuses); no Stockpot file has binary values."""
    raise yaml.constructor.ConstructorError(
        None, None, "binary values (!!binary) are not accepted; write the text", node.start_mark
    )


_DecimalLoader.add_constructor("tag:yaml.org,2002:binary", _refuse_binary)


def place(path: Path) -> str:
    """``("recipes", 1, "lines", 0)`` → ``recipes[1].lines[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass
class YamlDocument:
    source: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """The line of the value at ``path``, or of its nearest ancestor that exists."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None

    def problem(self, path: Path, message: str) -> Problem:
        return Problem(place(path), message, self.line_of(path))


def _refuse_aliases(text: str, source: str) -> None:
    """Anchors and aliases are refused before anything is built: a few hundred bytes of
    nested aliases expand to billions of values (the "billion laughs"). Stockpot's files
    never need them; the parse is one linear pass over the events."""
    try:
        for event in yaml.parse(text, Loader=_SafeLoader):
            alias = isinstance(event, yaml.AliasEvent)
            if alias or getattr(event, "anchor", None) is not None:
                what = f"alias *{event.anchor}" if alias else f"anchor &{event.anchor}"
                problem = Problem(
                    "",
                    f"YAML anchors and aliases are not accepted ({what}); write the values "
                    "out in full",
                    event.start_mark.line + 1,
                )
                raise InvalidDocument(source, [problem])
    except yaml.YAMLError:
        return  # the loader below reports it with its place


_WHOLE = re.compile(r"[-+]?[0-9]+")
_DIGITS = re.compile(r"[0-9]+")


def _refuse_decimal_comma_in_flow(node: yaml.MappingNode, path: Path, source: str) -> None:
    """``{quantity: 1,5, unit: kg}`` is YAML for a quantity of 1 and a key ``5`` without a
    value: a comma ends a value in a ``{…}`` mapping. Refused by what it is ("Keys should be
    strings" at ``[5]`` said nothing a person could act on)."""
    if not node.flow_style:
        return
    entries = node.value
    for (name, number), (key, value) in itertools.pairwise(entries):
        if (
            isinstance(number, yaml.ScalarNode)
            and not number.style
            and _WHOLE.fullmatch(number.value)
            and isinstance(key, yaml.ScalarNode)
            and not key.style
            and _DIGITS.fullmatch(key.value)
            and isinstance(value, yaml.ScalarNode)
            and value.tag.endswith(":null")
            and value.value == ""
        ):
            written = f"{number.value},{key.value}"
            message = (
                f"{name.value}: {written} reads as {number.value} and a key {key.value}: in a "
                f"{{…}} mapping a comma ends the value; write {number.value}.{key.value}, or "
                "put the entry on lines of its own (a decimal comma works there)"
            )
            where = (*path, str(name.value))
            raise InvalidDocument(source, [Problem(place(where), message, key.start_mark.line + 1)])


def _checked_lines(root: yaml.Node, source: str) -> dict[Path, int]:
    """Every value's line by its path, in one walk (without recursion: libyaml accepts 999
    levels of nesting, and a recursive walk of them ended in a ``RecursionError``) that also
    refuses, with its line, a key given twice in one mapping (PyYAML keeps the last one
    silently: a second ``ingredients:`` would drop the first list) and a NUL (``"\\0"`` in a
    quoted value, the only way YAML can hold one: PostgreSQL refuses it in text, so a file
    whose address, supplier or POS code held one ended in a database error)."""
    lines: dict[Path, int] = {}
    pending: list[tuple[yaml.Node, Path, bool]] = [(root, (), True)]  # (node, path, a value)
    while pending:
        node, path, value = pending.pop()
        if value:
            lines[path] = node.start_mark.line + 1
        problem = nul_problem(node.value) if isinstance(node, yaml.ScalarNode) else None
        if problem is not None:
            raise InvalidDocument(source, [Problem(place(path), problem, node.start_mark.line + 1)])
        if isinstance(node, yaml.MappingNode):
            _refuse_decimal_comma_in_flow(node, path, source)
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                scalar = isinstance(key_node, yaml.ScalarNode)
                key = key_node.value if scalar else "?"
                pending.extend(((key_node, path, False), (value_node, (*path, key), True)))
                if not scalar or key_node.tag.endswith(":merge"):
                    continue
                line = key_node.start_mark.line + 1
                if key_node.value in seen:
                    message = (
                        f"the key '{key_node.value}' is given twice (lines {seen[key_node.value]} "
                        f"and {line}); give it once"
                    )
                    raise InvalidDocument(source, [Problem("", message, line)])
                seen[key_node.value] = line
        elif isinstance(node, yaml.SequenceNode):
            pending.extend((item, (*path, index), True) for index, item in enumerate(node.value))
    return lines


MEGABYTE = 1024 * 1024

YAML_MAX_BYTES = 4 * MEGABYTE
"""The largest YAML file Stockpot parses (a catalog, mappings, a stock file, a catalog typed
in Slack): a group's catalog of thousands of ingredients and their recipes is about 1 MB.
YAML's node tree holds about 180 times a file's size: a 10 MB catalog of 280,000 ingredients
took 1.8 GB and 193 s to import. Refused by its size before it is parsed."""


def yaml_too_large(size: int | None) -> str:
    """What a YAML file over ``YAML_MAX_BYTES`` is told (``size`` ``None``: a device or pipe
    read up to the limit, its size unknown)."""
    limit = YAML_MAX_BYTES // MEGABYTE
    told = (
        f"is {math.ceil(size * 10 / MEGABYTE) / 10} MB"  # rounded up: never "4.0 MB" over 4 MB
        if size is not None
        else f"is larger than {limit} MB"
    )
    return (
        f"the file {told}; a YAML file (catalog, mappings, stock lines) may be at most "
        f"{limit} MB: split it into several files, each imported in turn"
    )


def load_yaml(text: str, *, source: str) -> YamlDocument:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > YAML_MAX_BYTES:
        raise InvalidDocument(source, [Problem("", yaml_too_large(size))])
    _refuse_aliases(text, source)
    loader = _DecimalLoader(text)
    try:
        node = loader.get_single_node()
        lines = _checked_lines(node, source) if node is not None else {}
        data = loader.construct_document(node) if node is not None else None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        character = error.character if isinstance(error.character, int) else 0
        message = (
            f"not valid YAML: the control character U+{character:04X} is not allowed; remove it"
        )
        raise InvalidDocument(source, [Problem("", message, line)]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = mark.line + 1 if mark is not None else None
        problem = Problem("", f"not valid YAML: {error.problem}", line)
        raise InvalidDocument(source, [problem]) from None
    except yaml.YAMLError as error:
        raise InvalidDocument(source, [Problem("", f"not valid YAML: {error}")]) from None
    finally:
        loader.dispose()
    return YamlDocument(source, data, lines)
