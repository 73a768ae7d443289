"""What can go wrong talking to a POS, split by what the caller should do about it."""

from __future__ import annotations

from stockpot.core.errors import NotReadyYet, StockpotError


class PosError(StockpotError):
    """A POS request failed. ``transient`` says whether trying again later can help."""

    code = "pos_error"
    transient = False


class PosUnavailable(PosError):
    """The POS did not answer usefully after every retry (timeouts, 5xx, 429, cut bodies)."""

    code = "pos_unavailable"
    transient = True


class PosTooSlow(PosUnavailable):
    """The POS did not answer within the time a caller gave the whole call (``Deadline``)."""

    code = "pos_too_slow"


class PosRequestRefused(PosError):
    """The POS refused the request (a 4xx other than 401/429): retrying will not help."""

    code = "pos_request_refused"


class PosAuthError(PosError):
    """Credentials or tokens no longer work; a person has to reconnect."""

    code = "pos_auth_failed"


class DayNotComplete(PosError, NotReadyYet):
    """The POS says the business day is still open; its sales can be fetched once it closes."""

    code = "day_not_complete"
    transient = True
