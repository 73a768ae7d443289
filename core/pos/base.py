"""The protocol every POS connector implements, and the shapes it speaks in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Protocol

import httpx
import msgspec

from stockpot.core.errors import TRIED_AGAIN
from stockpot.core.models import ExternalLocation, PosItemKind
from stockpot.core.pos.errors import (
    PosAuthError,
    PosError,
    PosRequestRefused,
    PosTooSlow,
    PosUnavailable,
)
from stockpot.core.pos.http import OutOfTime
from stockpot.core.redaction import redact
from stockpot.core.transfer.lines import RawInput, SaleLine


@dataclass(frozen=True)
class ConnectionCheck:
    """What "test connection" found: who we are at the POS and what we can reach."""

    account: str
    locations: int
    location_ids: frozenset[str] = frozenset()
    """The external ids of the locations reachable, where the POS says them at once."""
    tenant: tuple[str, str] | None = None
    """The POS account the credentials read, (key, name), where the POS says it: the SIDES
    account; the Lightspeed businesses (their ids, comma-separated)."""


@dataclass(frozen=True)
class RemoteLocation:
    external_id: str
    name: str
    timezone: str
    business_day_start: time | None
    """``None`` when the POS does not say (it is then learnt from the first day fetched)."""
    active: bool = True


@dataclass(frozen=True)
class RemoteItem:
    key: str
    """The identity sales lines carry (SKU, product id); see ``core.transfer.lines.item_key``."""
    external_id: str | None
    name: str
    kind: PosItemKind


@dataclass(frozen=True)
class LocationRef:
    """What a connector needs to know about one of its locations."""

    external_id: str
    name: str
    timezone: str
    business_day_start: time

    @classmethod
    def of(cls, location: ExternalLocation) -> LocationRef:
        return cls(
            location.external_id, location.name, location.timezone, location.business_day_start
        )


@dataclass(frozen=True)
class FetchedDay:
    raw: RawInput
    lines: list[SaleLine]
    business_day_start: time | None = None
    """The day start the POS reported, when it reports one (Lightspeed does, per response)."""


class PosConnector(Protocol):
    def test(self) -> ConnectionCheck: ...

    def locations(self) -> list[RemoteLocation]: ...

    def items(
        self, locations: list[LocationRef], since: datetime | None = None
    ) -> Iterator[RemoteItem]:
        """The catalog; with ``since``, only what changed after it where the POS can tell."""
        ...

    def fetch_day(self, location: LocationRef, business_date: date) -> FetchedDay: ...

    def close(self) -> None:
        """Close the HTTP client (its kept-alive connections)."""
        ...


def message_of(response: httpx.Response) -> str:
    """The most useful words of an error answer, whatever envelope the service uses, with
    any secret it repeats redacted (an answer may echo the request it refuses, credentials
    included): these words go into runs, jobs, logs and Slack."""
    try:
        body = response.json()
    except ValueError:
        return redact(response.text)[:200] or response.reason_phrase
    if isinstance(body, dict):
        for key in ("error_description", "message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return redact(value)
            if isinstance(value, dict):
                return redact(str(value.get("message") or value.get("code") or value))
    return redact(json.dumps(body))[:200]


def request(
    client: httpx.Client, method: str, path: str, *, service: str, **kwargs: Any
) -> httpx.Response:
    """One request (retried by the client's transport), or a typed error.

    ``service`` names the POS in messages.
    """
    try:
        response = client.request(method, path, **kwargs)
    except OutOfTime as error:
        raise PosTooSlow(f"{service} did not answer within {error.seconds:g} s") from None
    except httpx.TransportError as error:
        raise PosUnavailable(
            f"{service} did not answer ({type(error).__name__}: {error}){TRIED_AGAIN}"
        ) from None
    if response.status_code == 401:
        raise PosAuthError(f"{service} refused our credentials: {message_of(response)}")
    if response.status_code in (429, 500, 502, 503, 504):
        raise PosUnavailable(
            f"{service} is unavailable (HTTP {response.status_code}: {message_of(response)}) "
            f"after several attempts{TRIED_AGAIN}"
        )
    if response.status_code >= 400:
        raise PosRequestRefused(
            f"{service} refused {method} {path} (HTTP {response.status_code}): "
            f"{message_of(response)}"
        )
    return response


_JSON_TYPES = {
    type(None): "null",
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    list: "array",
    dict: "object",
}


class WrongShape(Exception):
    """A field Stockpot reads holds another JSON type, said in msgspec's words so that every
    connector's message reads alike. Raised where the field is read, its path relative to the
    object read; ``inside`` prefixes the keys and indexes around it on the way out."""

    def __init__(self, expected: str, value: Any, *path: str | int) -> None:
        super().__init__(expected)
        self.expected = expected
        self.got = _JSON_TYPES.get(type(value), type(value).__name__)
        self.path = path

    def inside(self, *path: str | int) -> WrongShape:
        self.path = (*path, *self.path)
        return self

    def __str__(self) -> str:
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in self.path)
        return f"Expected `{self.expected}`, got `{self.got}` - at `${where}`"


def unreadable(response: httpx.Response, service: str, detail: object) -> PosUnavailable:
    """An answer in a shape Stockpot does not read (``detail`` says where): transient, as a
    later answer may well be readable."""
    return PosUnavailable(
        f"{service} answered {response.request.method} {response.request.url.path} in a "
        f"shape Stockpot does not read ({detail}){TRIED_AGAIN}"
    )


def decode(
    response: httpx.Response, *, service: str, shape: msgspec.json.Decoder[Any] | None = None
) -> Any:
    """The JSON answer; with ``shape``, only what that decoder's type declares is read (the
    rest is skipped unparsed), as that type."""
    try:
        return response.json() if shape is None else shape.decode(response.content)
    except msgspec.ValidationError as error:
        raise unreadable(response, service, error) from None
    except ValueError:
        raise PosUnavailable(
            f"{service} answered {response.request.method} {response.request.url.path} with a "
            f"body that is not valid JSON{TRIED_AGAIN}"
        ) from None


def send(client: httpx.Client, method: str, path: str, *, service: str, **kwargs: Any) -> Any:
    """``request`` and ``decode`` in one: the JSON answer."""
    return decode(request(client, method, path, service=service, **kwargs), service=service)


__all__ = [
    "ConnectionCheck",
    "FetchedDay",
    "LocationRef",
    "PosConnector",
    "PosError",
    "RemoteItem",
    "RemoteLocation",
    "WrongShape",
    "decode",
    "request",
    "send",
    "unreadable",
]
