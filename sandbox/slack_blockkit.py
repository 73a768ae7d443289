"""The Block Kit limits Slack enforces (reference slack.md §5), as pure checks: a list of the
problems with a message's blocks or a view, empty when Slack would take them: lengths, counts,
and text objects as Slack takes them (typed, not empty, ``plain_text`` where only that goes).
The stand-in refuses what these find, so the bot cannot pass here and fail in a workspace.
Not checked:
the undocumented ~13k characters of all blocks together, and the view stack and payload size
(views.push)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
BLOCK_TYPES = {
    "section",
    "header",
    "context",
    "divider",
    "actions",
    "image",
    "input",
    "rich_text",
    "file",
    "markdown",
    "table",
    "video",
}


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("text", ""))
    return str(value or "")


def _too_long(where: str, value: Any, limit: int) -> Iterator[str]:
    if len(_text(value)) > limit:
        yield f"{where}: more than {limit} characters"


TEXT_TYPES = ("plain_text", "mrkdwn")


def _text_object(
    where: str, value: Any, limit: int, *, plain: bool = False, required: bool = True
) -> Iterator[str]:
    """A text object as Slack takes it: ``{"type": "plain_text" | "mrkdwn", "text": ...}``
    with at least one character (Slack: "must be more than 0 characters") and at most
    ``limit``; ``plain``: only ``plain_text`` (a header, a button, a label, a placeholder,
    a select's option, a modal's title). A bare string is not a text object."""
    if value is None:
        if required:
            yield f"{where}: missing (a text object is required)"
        return
    if not isinstance(value, dict) or value.get("type") not in TEXT_TYPES:
        yield f"{where}: not a text object (type plain_text or mrkdwn)"
        return
    if plain and value["type"] != "plain_text":
        yield f"{where}: must be of type plain_text, not {value['type']}"
    if not isinstance(value.get("text"), str) or not value["text"]:
        yield f"{where}.text: must be more than 0 characters"
    yield from _too_long(where, value, limit)


OPTION_COUNTS = {
    "static_select": (1, 100),
    "multi_static_select": (1, 100),
    "overflow": (1, 5),
    "checkboxes": (0, 10),
    "radio_buttons": (0, 10),
}
"""How many options each element takes (§5: selects ≤ 100, overflow 1–5, checkboxes and
radio buttons ≤ 10)."""


def _initial_options(where: str, element: dict[str, Any]) -> Iterator[str]:
    """A static menu's, checkboxes' or radio buttons' ``initial_option`` (``initial_options``)
    "exactly matches one of the options" (slack_sdk's and Slack's element references): Slack
    refuses one that is not among them, text and value alike. An external select's initial
    option has no list to be in."""
    if element.get("type") in ("external_select", "multi_external_select"):
        return
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    chosen = element.get("initial_options") or []
    if element.get("initial_option") is not None:
        chosen = [element["initial_option"]]
    for option in chosen:
        if option not in options:
            yield f"{where}.initial_option: {option.get('value')!r} is not one of the options"


def _count(where: str, items: list[Any], low: int, high: int) -> Iterator[str]:
    if not low <= len(items) <= high:
        yield f"{where}: {len(items)}, not between {low} and {high}"


def _confirm(where: str, confirm: dict[str, Any]) -> Iterator[str]:
    """A confirm dialog (§5): title ≤ 100, text ≤ 300, confirm and deny ≤ 30."""
    for name, limit in (("title", 100), ("text", 300), ("confirm", 30), ("deny", 30)):
        yield from _text_object(
            f"{where}.{name}",
            confirm.get(name),
            limit,
            plain=name != "text",
            required=name in ("title", "text"),
        )


def _image(where: str, image: dict[str, Any]) -> Iterator[str]:
    """An image block or element (§5): ``image_url`` ≤ 3000, ``alt_text`` ≤ 2000."""
    yield from _too_long(f"{where}.image_url", image.get("image_url"), 3000)
    yield from _too_long(f"{where}.alt_text", image.get("alt_text"), 2000)


def _element(where: str, element: dict[str, Any]) -> Iterator[str]:
    kind = element.get("type")
    if not kind:
        yield f"{where}: an element without a type"
    yield from _too_long(f"{where}.action_id", element.get("action_id"), 255)
    if kind == "button":
        yield from _text_object(f"{where}.text", element.get("text"), 75, plain=True)
        yield from _too_long(f"{where}.value", element.get("value"), 2000)
        yield from _too_long(f"{where}.url", element.get("url"), 3000)
    if kind == "image":
        yield from _image(where, element)
    if kind in OPTION_COUNTS and "option_groups" not in element:
        yield from _count(f"{where}.options", element.get("options") or [], *OPTION_COUNTS[kind])
    if element.get("option_groups") is not None:
        yield from _count(f"{where}.option_groups", element["option_groups"], 1, 100)
    yield from _initial_options(where, element)
    if kind == "plain_text_input" and int(element.get("max_length") or 0) > 3000:
        yield f"{where}.max_length: more than 3000"
    if kind == "file_input" and not 1 <= int(element.get("max_files", 10)) <= 10:
        yield f"{where}.max_files: not between 1 and 10"
    for index, option in enumerate(element.get("options") or []):
        # Checkboxes and radio buttons take mrkdwn options; every other element plain_text.
        yield from _text_object(
            f"{where}.options[{index}].text",
            option.get("text"),
            75,
            plain=kind not in ("checkboxes", "radio_buttons"),
        )
        yield from _too_long(f"{where}.options[{index}].value", option.get("value"), 150)
    yield from _text_object(
        f"{where}.placeholder", element.get("placeholder"), 150, plain=True, required=False
    )
    if element.get("confirm"):
        yield from _confirm(f"{where}.confirm", element["confirm"])


def _block(where: str, block: dict[str, Any], ids: set[str]) -> Iterator[str]:
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        yield f"{where}: unknown block type {kind!r}"
        return
    block_id = block.get("block_id")
    if block_id is not None:
        if block_id in ids:
            yield f"{where}.block_id: {block_id!r} is used twice"
        ids.add(block_id)
        yield from _too_long(f"{where}.block_id", block_id, 255)
    if kind == "section":
        if not block.get("text") and not block.get("fields"):
            yield f"{where}: a section needs text or fields"
        yield from _text_object(f"{where}.text", block.get("text"), 3000, required=False)
        fields = block.get("fields") or []
        if len(fields) > 10:
            yield f"{where}.fields: more than 10"
        for index, item in enumerate(fields):
            yield from _text_object(f"{where}.fields[{index}]", item, 2000)
        if block.get("accessory"):
            yield from _element(f"{where}.accessory", block["accessory"])
    elif kind == "header":
        yield from _text_object(f"{where}.text", block.get("text"), 150, plain=True)
    elif kind == "context":
        elements = block.get("elements") or []
        yield from _count(f"{where}.elements", elements, 1, 10)
        for index, element in enumerate(elements):
            if element.get("type") == "image":
                yield from _image(f"{where}.elements[{index}]", element)
            else:
                yield from _text_object(f"{where}.elements[{index}]", element, 3000)
    elif kind == "image":
        yield from _image(where, block)
    elif kind == "markdown":
        yield from _too_long(f"{where}.text", block.get("text"), 12000)
    elif kind == "table":
        rows = block.get("rows") or []
        yield from _count(f"{where}.rows", rows, 0, 100)
        for index, row in enumerate(rows):
            yield from _count(f"{where}.rows[{index}]", row, 0, 20)
        yield from _count(f"{where}.column_settings", block.get("column_settings") or [], 0, 20)
    elif kind == "actions":
        elements = block.get("elements") or []
        yield from _count(f"{where}.elements", elements, 1, 25)
        for index, element in enumerate(elements):
            yield from _element(f"{where}.elements[{index}]", element)
    elif kind == "input":
        yield from _text_object(f"{where}.label", block.get("label"), 2000, plain=True)
        yield from _text_object(
            f"{where}.hint", block.get("hint"), 2000, plain=True, required=False
        )
        if not block.get("element"):
            yield f"{where}: an input needs an element"
        else:
            yield from _element(f"{where}.element", block["element"])


def message_problems(blocks: list[dict[str, Any]]) -> list[str]:
    if len(blocks) > MESSAGE_BLOCKS:
        return [f"blocks: {len(blocks)} blocks, more than {MESSAGE_BLOCKS}"]
    ids: set[str] = set()
    return [p for i, b in enumerate(blocks) for p in _block(f"blocks[{i}]", b, ids)]


def view_problems(view: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        problems.append(f"view.type: {kind!r} is not modal or home")
    blocks = view.get("blocks") or []
    if len(blocks) > VIEW_BLOCKS:
        problems.append(f"view.blocks: {len(blocks)} blocks, more than {VIEW_BLOCKS}")
    for name in ("title", "submit", "close"):
        problems += _text_object(f"view.{name}", view.get(name), 24, plain=True, required=False)
    if kind == "modal" and not view.get("title"):
        problems.append("view.title: a modal needs a title")
    if kind == "modal" and any(b.get("type") == "input" for b in blocks) and not view.get("submit"):
        problems.append("view.submit: a modal with inputs needs a submit button")
    if len(str(view.get("private_metadata") or "")) > 3000:
        problems.append("view.private_metadata: more than 3000 characters")
    if len(str(view.get("callback_id") or "")) > 255:
        problems.append("view.callback_id: more than 255 characters")
    ids: set[str] = set()
    problems += [p for i, b in enumerate(blocks) for p in _block(f"view.blocks[{i}]", b, ids)]
    return problems
