"""Lightspeed tokens kept encrypted on the connection, refreshed once for everyone.

A refresh runs under a row lock on the connection and re-reads the stored tokens first: when
another process refreshed meanwhile, its tokens are used instead of spending the (single-use)
refresh token again. A refused refresh marks the connection ``needs_reauthorization``.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.crypto import SecretBox
from stockpot.core.db import unit_of_work, utcnow
from stockpot.core.models import Connection, ConnectionStatus
from stockpot.core.pos.errors import PosAuthError
from stockpot.core.pos.http import RetryPolicy
from stockpot.core.pos.lightspeed.oauth import (
    OAuthConfig,
    OAuthGrantRefused,
    Tokens,
    request_tokens,
)

REFRESH_MARGIN = timedelta(seconds=60)
"""Refresh this long before the access token expires."""

REAUTHORIZE = (
    "Lightspeed no longer accepts Stockpot's authorization for this company; an admin has to "
    "reconnect Lightspeed (locations, links and mappings are kept)"
)


class ConnectionTokens:
    def __init__(
        self,
        factory: sessionmaker[Session],
        connection_id: int,
        box: SecretBox,
        config: OAuthConfig,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._factory = factory
        self._connection_id = connection_id
        self._box = box
        self._config = config
        self._policy = policy
        self._tokens: Tokens | None = None

    def current(self) -> Tokens:
        if self._tokens is None:
            with self._factory() as session:
                connection = session.get_one(Connection, self._connection_id)
                self._tokens = self._read(connection)
        return self._tokens

    def refresh(self, stale: Tokens) -> Tokens:
        refused: OAuthGrantRefused | None = None
        with unit_of_work(self._factory) as session:
            connection = session.scalars(
                select(Connection).where(Connection.id == self._connection_id).with_for_update()
            ).one()
            stored = self._read(connection)
            if stored.access_token != stale.access_token and not _expiring(stored):
                self._tokens = stored
                return stored
            try:
                fresh = request_tokens(
                    self._config,
                    {"grant_type": "refresh_token", "refresh_token": stored.refresh_token},
                    policy=self._policy,
                )
            except OAuthGrantRefused as error:
                connection.status = ConnectionStatus.NEEDS_REAUTHORIZATION
                refused = error
            else:
                connection.credentials = self._box.encrypt(fresh.to_json())
                connection.status = ConnectionStatus.CONNECTED
        if refused is not None:
            raise PosAuthError(f"{REAUTHORIZE} ({refused})") from refused
        self._tokens = fresh
        return fresh

    def _read(self, connection: Connection) -> Tokens:
        if connection.status is ConnectionStatus.NEEDS_REAUTHORIZATION:
            raise PosAuthError(REAUTHORIZE)
        if connection.credentials is None:
            raise PosAuthError("this Lightspeed connection has no tokens; connect it again")
        return Tokens.from_json(self._box.decrypt(connection.credentials))


def _expiring(tokens: Tokens) -> bool:
    return tokens.expires_at - REFRESH_MARGIN <= utcnow()


class LightspeedAuth(httpx.Auth):
    """Bearer tokens: refreshed shortly before they expire, and once more on a 401."""

    def __init__(self, tokens: ConnectionTokens) -> None:
        self._tokens = tokens

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        tokens = self._tokens.current()
        if _expiring(tokens):
            tokens = self._tokens.refresh(tokens)
        request.headers["Authorization"] = f"Bearer {tokens.access_token}"
        response = yield request
        if response.status_code == 401:
            tokens = self._tokens.refresh(tokens)
            request.headers["Authorization"] = f"Bearer {tokens.access_token}"
            yield request
