"""The one rule for reading a POS's pages: they must move on, and they must end.

A listing is read one request per page until the POS says it is the last. A POS that
ignores the page asked for (or says "another follows" for ever) was asked page after page
without end, holding a worker's job and growing what it had read."""

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
