"""The doctor's report."""

from __future__ import annotations

from collections.abc import Sequence

from stockpot.bot.blocks.common import Block, escape, header, lines_section
from stockpot.core.doctor import Check


def doctor_blocks(company: str, checks: Sequence[Check]) -> list[Block]:
    failing = sum(1 for check in checks if not check.ok)
    title = f"Checks for {company}: " + (f"{failing} to fix" if failing else "all good")
    by_subject: dict[str, list[str]] = {}
    for check in checks:
        mark = ":white_check_mark:" if check.ok else ":x:"
        by_subject.setdefault(check.subject, []).append(
            f"{mark} {escape(check.name)} — {escape(check.detail)}"
        )
    return [header(title)] + [
        lines_section(escape(subject), lines) for subject, lines in list(by_subject.items())[:45]
    ]
