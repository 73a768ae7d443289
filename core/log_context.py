"""What a log line is about: the request, job, company and location in hand.

Context variables, so each thread (and each task copied into a pool with ``contextvars``)
carries its own; ``bound`` sets values for a block and puts the previous ones back after it.
The JSON log format writes every value that is set.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

FIELDS = ("request_id", "job_id", "job_kind", "company_id", "location_id", "team_id")

_vars: dict[str, contextvars.ContextVar[Any]] = {
    name: contextvars.ContextVar(f"stockpot_{name}", default=None) for name in FIELDS
}


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


@contextmanager
def bound(**values: Any) -> Iterator[None]:
    """Set the given fields (``None`` values are skipped) for the duration of the block."""
    tokens = []
    for name, value in values.items():
        if value is not None:
            tokens.append((name, _vars[name].set(value)))
    try:
        yield
    finally:
        for name, token in reversed(tokens):
            _vars[name].reset(token)


def current() -> dict[str, Any]:
    """The fields set here, by name."""
    return {name: var.get() for name, var in _vars.items() if var.get() is not None}
