"""Jinja2 for Slack text: no HTML autoescaping (it would show ``&#39;`` in Slack), and a
``slack`` filter for the three characters Slack itself escapes."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from stockpot.bot.blocks.common import escape

TEXTS = Environment(
    loader=PackageLoader("stockpot.bot", "templates"),
    autoescape=False,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)
TEXTS.filters["slack"] = escape


def render(template: str, **values: Any) -> str:
    return TEXTS.get_template(template).render(**values).strip()
