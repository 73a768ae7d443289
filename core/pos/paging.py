"""The rules for reading what a POS sends: pages must move on and end, and a record sent
twice counts once.

A listing is read one request per page until the POS says it is the last. A POS that
ignores the page asked for (or says "another follows" for ever) was asked page after page
without end, holding a worker's job and growing what it had read. Data moves while it is
read: an order that moved to the next page between two requests comes back on both, a sales
line moved to another account shows in both; by its id, it is the same record."""

from __future__ import annotations

from typing import Any

from stockpot.core.pos.errors import PosUnavailable

MAX_PAGES = 1000
"""More pages than any listing Stockpot reads has (500 products or orders a page: half a
million of them); past this, the paging is taken as broken."""


class Pages:
    """Checks each page of one listing against the one before it."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._previous: Any = None
        self._read = 0

    def check(self, listing: str, content: Any) -> None:
        """``content`` is the next page of ``listing`` (what was read of it; ``listing`` as
        the error names it, e.g. ``GET /api/v1/stores``): refused when it repeats the
        page before (the POS ignored the page asked for) or when the pages pass
        ``MAX_PAGES``. A transient error: the work is tried again later."""
        self._read += 1
        page = self._read
        if page > 1 and content == self._previous:
            self._refuse(listing, f"page {page} repeats page {page - 1}")
        if page > MAX_PAGES:
            self._refuse(listing, f"it sent more than {MAX_PAGES} pages")
        self._previous = content

    def _refuse(self, listing: str, what: str) -> None:
        raise PosUnavailable(
            f"{self.service} answered {listing} with pages that never end ({what}): "
            f"Stockpot stopped reading them. Try again later; if this goes on, tell "
            f"{self.service}'s support"
        )


class Seen:
    """The ids of the records read so far (a day's SIDES orders, a Lightspeed day's accounts
    and lines): a record whose id came before is the same record sent again, and counts once,
    where it came first."""

    def __init__(self) -> None:
        self._ids: set[str] = set()

    def first(self, record_id: str) -> bool:
        """Whether ``record_id`` comes for the first time (an empty id tells nothing apart:
        such a record always counts)."""
        if not record_id:
            return True
        if record_id in self._ids:
            return False
        self._ids.add(record_id)
        return True
