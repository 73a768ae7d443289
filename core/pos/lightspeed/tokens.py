"""Lightspeed tokens kept encrypted on the connection, refreshed once for everyone.

A refresh runs under a row lock on the connection and re-reads the stored tokens first: when
another process refreshed meanwhile, its tokens are used instead of spending the (single-use)
refresh token again. A refused refresh marks the connection ``needs_reauthorization``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
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

log = logging.getLogger(__name__)

STORE_PATIENCE = 60.0
"""Seconds to keep trying to store tokens Lightspeed has just rotated."""
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
        fresh: Tokens | None = None
        try:
            with unit_of_work(self._factory) as session:
                connection = self._locked(session)
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
                    self._write(connection, fresh)
        except SQLAlchemyError:
            if fresh is None:
                raise  # nothing was spent: the job is tried again later
            self._store_until_stored(fresh)
        if refused is not None:
            raise PosAuthError(f"{REAUTHORIZE} ({refused})") from refused
        assert fresh is not None
        self._tokens = fresh
        return fresh

    def _store_until_stored(self, fresh: Tokens) -> None:
        """Lightspeed has rotated the refresh token and the database went away before the new
        one was stored: the new tokens exist only here. Store them again and again, waiting
        longer each time, for up to ``STORE_PATIENCE``, before they are used (a blip of a few
        seconds no longer costs the connection)."""
        deadline = time.monotonic() + STORE_PATIENCE
        wait = 0.25
        while True:
            try:
                with unit_of_work(self._factory) as session:
                    self._write(self._locked(session), fresh)
                log.warning(
                    "stored the refreshed Lightspeed tokens of connection %s after the "
                    "database came back",
                    self._connection_id,
                )
                return
            except SQLAlchemyError:
                if time.monotonic() + wait > deadline:
                    log.error(
                        "the refreshed Lightspeed tokens of connection %s could not be stored "
                        "for %s s; the connection will need to be reauthorized",
                        self._connection_id,
                        STORE_PATIENCE,
                    )
                    raise
                log.warning(
                    "the database is away; storing the refreshed Lightspeed tokens of "
                    "connection %s again in %.2f s",
                    self._connection_id,
                    wait,
                )
                time.sleep(wait)
                wait = min(wait * 2, 5.0)

    def _locked(self, session: Session) -> Connection:
        return session.scalars(
            select(Connection).where(Connection.id == self._connection_id).with_for_update()
        ).one()

    def _write(self, connection: Connection, fresh: Tokens) -> None:
        connection.credentials = self._box.encrypt(fresh.to_json())
        connection.status = ConnectionStatus.CONNECTED

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
