"""Small builders and the limits they enforce (reference slack.md §5)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from typing import Any, TypeVar, overload

from stockpot.core.access import slack_user
from stockpot.core.words import clip as clip  # the one rule for cutting text, in core
from stockpot.core.words import local_time as local_time  # the one rule for times, in core
from stockpot.core.words import plural as plural  # the one rule for counts, in core

MESSAGE_BLOCKS = 50
MODAL_BLOCKS = 100
SECTION_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
CONTEXT_ELEMENTS = 10

Block = dict[str, Any]
T = TypeVar("T")


def escape(text: str) -> str:
    """Slack escapes only these three (HTML escaping would show ``&#39;`` literally). A name's
    ``*``, ``_``, ``~`` and backticks still format in mrkdwn (``*Kühlhaus*`` shows bold): Slack
    documents no escape for them, and ``verbatim`` keeps formatting (docs.slack.dev, text
    object); only a ``plain_text`` text object shows them as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def day_spans(days: Iterable[date]) -> str:
    """Dates oldest first, each run of consecutive days as one span ("2026-09-06,
    2026-09-09 to 09-13"; a span's end drops the year it shares with its start): two months
    reprocessed read as a few spans, not sixty dates."""
    spans: list[str] = []
    ordered = sorted(set(days))
    start = 0
    for index, day in enumerate(ordered):
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        if following == day + timedelta(days=1):
            continue
        first = ordered[start]
        if first == day:
            spans.append(first.isoformat())
        else:
            end = f"{day:%m-%d}" if day.year == first.year else day.isoformat()
            spans.append(f"{first.isoformat()} to {end}")
        start = index + 1
    return ", ".join(spans)


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, HEADER_TEXT)}}


def who_did(audit: str) -> str:
    """Who did something, as recorded (``slack:U123``, ``cli``): a Slack user mentioned,
    anyone else by name."""
    user = slack_user(audit)
    return f"<@{user}>" if user else escape(audit)


def section(markdown: str, accessory: Block | None = None) -> Block:
    block: Block = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": clip(markdown, SECTION_TEXT)},
    }
    if accessory is not None:
        block["accessory"] = accessory
    return block


def context(*markdown: str) -> Block:
    return {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": clip(text, SECTION_TEXT)}
            for text in markdown[:CONTEXT_ELEMENTS]
        ],
    }


def divider() -> Block:
    return {"type": "divider"}


def confirm(title: str, text: str, yes: str, *, danger: bool = True) -> Block:
    """Block Kit's confirmation dialog: Slack asks before the button's action is sent."""
    dialog: Block = {
        "title": {"type": "plain_text", "text": clip(title, 100)},
        "text": {"type": "mrkdwn", "text": clip(text, 300)},
        "confirm": {"type": "plain_text", "text": clip(yes, 30)},
        "deny": {"type": "plain_text", "text": "Cancel"},
    }
    if danger:
        dialog["style"] = "danger"
    return dialog


def button(
    text: str,
    action_id: str,
    value: str = "",
    *,
    style: str | None = None,
    url: str | None = None,
    confirm: Block | None = None,
) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(text, BUTTON_TEXT)},
        "action_id": action_id,
    }
    if value:
        element["value"] = value
    if style:
        element["style"] = style
    if url:
        element["url"] = url
    if confirm is not None:
        element["confirm"] = confirm
    return element


def actions(*elements: Block) -> Block:
    return {"type": "actions", "elements": list(elements[:25])}


def lines_section(title: str, lines: Sequence[str], more: str = "…and {n} more") -> Block:
    """A section listing lines until the text limit; what does not fit is counted. ``lines``
    may be ``LazyLines``: only the lines that fit are then formatted."""
    text = f"*{title}*"
    for index, line in enumerate(lines):
        candidate = f"{text}\n{line}"
        rest = len(lines) - index
        if len(candidate) + len(more) + 10 > SECTION_TEXT:
            return section(f"{text}\n_{more.format(n=rest)}_")
        text = candidate
    return section(text)


class LazyLines(Sequence[str]):
    """``render`` of each item, worked out only when read: a section shows a few dozen lines
    of thousands (``/ledger balances`` of 2,000 ingredients formatted every quantity, most
    of which never fit; issue 17's answer profile)."""

    def __init__(self, items: Sequence[T], render: Callable[[T], str]) -> None:
        self._items: Sequence[Any] = items
        self._render: Callable[[Any], str] = render

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._render(item) for item in self._items[index]]
        return self._render(self._items[index])


def lines_modal(
    title: str,
    heading: str,
    lines: Sequence[str],
    *,
    per_section: int,
    more: str,
    reserved: int = 2,
) -> Block:
    """A modal listing ``lines`` under ``heading``, ``per_section`` lines a section (as many
    as stay under a section's 3,000 characters), as many sections as the modal's 100 blocks
    hold beside ``reserved`` others; past that, ``more`` (``{n}``: how many are left out).
    Only the lines shown are read (``LazyLines`` formats no others)."""
    room = (MODAL_BLOCKS - reserved) * per_section
    shown = lines[:room]
    blocks: list[Block] = [section(heading)]
    blocks += [
        section("\n".join(shown[start : start + per_section]))
        for start in range(0, len(shown), per_section)
    ]
    if len(lines) > room:
        blocks.append(context(more.format(n=len(lines) - room)))
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks,
    }


def message(text: str, blocks: list[Block]) -> dict[str, Any]:
    """A message payload: fallback text plus at most 50 blocks."""
    if len(blocks) > MESSAGE_BLOCKS:
        blocks = [
            *blocks[: MESSAGE_BLOCKS - 1],
            context(f"_{len(blocks) - MESSAGE_BLOCKS + 1} more blocks left out_"),
        ]
    return {"text": clip(text, 3000), "blocks": blocks}


def without_buttons(blocks: Sequence[Block], action_ids: Iterable[str]) -> list[Block]:
    """``blocks`` with every element of ``action_ids`` taken out (an actions block left
    empty goes; so does a section's accessory): what a message shows once those are spent."""
    spent = set(action_ids)
    kept: list[Block] = []
    for block in blocks:
        if block.get("type") == "actions":
            elements = [e for e in block.get("elements") or [] if e.get("action_id") not in spent]
            if elements:
                kept.append({**block, "elements": elements})
            continue
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") in spent:
            block = {k: v for k, v in block.items() if k != "accessory"}
        kept.append(block)
    return kept
