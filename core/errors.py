"""Errors the services raise for users to read.

Every error carries a stable ``code`` (the product's error codes where it has one) and a
message that says what is wrong, where, and how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from stockpot.core.words import grouped, plural

T = TypeVar("T")

TRIED_AGAIN = "; it will be tried again"
"""How the message of an error that may pass ends (a POS away): a job's worker tries again,
and says it without this promise once no attempt is left (``core.jobs.telling.as_final``)."""


class StockpotError(Exception):
    """A failure a user can act on. ``str(error)`` is the message to show."""

    code: str = "stockpot_error"
    mention: tuple[str, ...] = ()
    """Slack user ids the message points to (e.g. whom to ask), shown after it as mentions:
    the message itself is escaped, so it cannot carry mentions of its own."""

    def __init__(
        self, message: str, *, code: str | None = None, mention: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.mention = mention


class NotReadyYet(StockpotError):
    """What was asked for does not exist yet (a POS day still open): asking again later will
    find it. Job workers wait for it without counting an attempt; the sources that know when
    something is ready (the POS connectors) raise a subclass of their own."""

    code = "not_ready_yet"


class NotFound(StockpotError):
    code = "not_found"


class ValidationFailed(StockpotError):
    code = "validation_failed"


class ConfigurationError(StockpotError):
    code = "configuration_error"


class UnauthorizedCompanyAccess(StockpotError):
    code = "unauthorized_company_access"


class IntegrationExists(StockpotError):
    """A second Lightspeed or SIDES connection for one company."""

    def __init__(self, provider: str, company: str) -> None:
        super().__init__(
            f"company '{company}' already has a {provider} connection; reauthorize or update "
            "the existing one instead of adding another",
            code=f"{provider}_integration_exists",
        )


@dataclass(frozen=True)
class Problem:
    """One error found in an input document, with its place (e.g. ``recipes[1].lines[0]``)."""

    place: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.place}: {self.message}" if self.place else f"{where}{self.message}"


PROBLEMS_SHOWN = 20
"""How many of a document's problems a message lists (by line); the rest are counted."""


def first_problems(problems: Sequence[T], shown: int = PROBLEMS_SHOWN) -> tuple[list[T], str]:
    """The problems a message lists, and what it says of the rest (``""`` when none are
    left out): one rule for the CLI, Slack messages and Slack's count-file previews."""
    rest = len(problems) - shown
    return list(problems[:shown]), (f"… and {grouped(rest)} more" if rest > 0 else "")


class InvalidDocument(ValidationFailed):
    """An import file with errors; nothing of it was written. Its message lists the first
    ``PROBLEMS_SHOWN`` problems by line and counts the rest (200,000 problems made a 20 MB
    message); ``problems`` holds every one and ``listing`` writes them all out."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = sorted(problems, key=lambda p: p.line if p.line is not None else 1 << 30)
        count = len(self.problems)
        self.headline = f"{source}: {plural(count, 'error')}, nothing was imported:"
        super().__init__(self._told(self.headline))

    def retold(self, outcome: str) -> str:
        """The message for a reader who typed the lines, not a file: how many problems and
        what did not happen (``"nothing was posted"``), then the same listing. Slack's
        ``/stock receive Kitchen Flour=x`` says "1 problem, nothing was posted", not the
        CLI's "arguments: 1 error, nothing was imported"."""
        count = len(self.problems)
        return self._told(f"{plural(count, 'problem')}, {outcome}:")

    def _told(self, headline: str) -> str:
        shown, more = first_problems(self.problems)
        lines = [headline, *self.listing(shown)]
        return "\n".join([*lines, f"  {more}"] if more else lines)

    @staticmethod
    def listing(problems: Sequence[Problem]) -> list[str]:
        return [f"  {problem}" for problem in problems]
