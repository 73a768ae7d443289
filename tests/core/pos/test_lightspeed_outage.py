"""The database goes away for a few seconds while a Lightspeed token is refreshed, after
Lightspeed has rotated the (single-use) refresh token: the new tokens are stored once the
database is back, and the connection keeps working (PostgreSQL, over real HTTP)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from stockpot.core.crypto import secret_box
from stockpot.core.models import Connection, ConnectionStatus
from stockpot.core.pos import connections
from stockpot.core.pos.lightspeed.oauth import oauth_config
from stockpot.core.pos.lightspeed.tokens import ConnectionTokens
from stockpot.sandbox.http import Fault
from tests.core.csv_import.test_day_races import _waiting_for_locks
from tests.core.jobs.test_database_outage import Outage
from tests.holds import Hold

pytestmark = pytest.mark.postgresql_only

OUTAGE_SECONDS = 3.0


def test_a_database_blip_during_a_token_refresh_keeps_the_connection(
    lightspeed_connected, settings, policy, lightspeed
):
    if lightspeed_connected.dialect != "postgresql":
        pytest.skip("PostgreSQL only: the database is cut off through the server")
    outage = Outage(lightspeed_connected.url)
    ended = threading.Event()

    def cut_off_while_lightspeed_rotates() -> None:
        outage.begin()

        def end() -> None:
            outage.end()
            ended.set()

        threading.Timer(OUTAGE_SECONDS, end).start()

    lightspeed.expire_access_tokens()
    lightspeed.faults.add(Fault(before=cut_off_while_lightspeed_rotates), path="/token", times=1)
    try:
        summary = connections.sync_items(
            lightspeed_connected.factory,
            settings,
            lightspeed_connected.connection_id,
            policy=policy,
        )
    finally:
        assert ended.wait(30)
    assert summary.created == [], "the sync went on with the new tokens"
    with lightspeed_connected.session() as session:
        connection = session.scalar(
            select(Connection).where(Connection.id == lightspeed_connected.connection_id)
        )
        assert connection.status is ConnectionStatus.CONNECTED

    lightspeed.expire_access_tokens()
    again = connections.sync_items(
        lightspeed_connected.factory, settings, lightspeed_connected.connection_id, policy=policy
    )
    assert again.created == [], "the stored refresh token is the one Lightspeed issued last"
    token_calls = [r.status for r in lightspeed.requests if r.path.endswith("/token")]
    assert token_calls[-2:] == [200, 200]


def test_two_workers_refreshing_at_once_spend_the_refresh_token_once(
    lightspeed_connected, settings, policy, lightspeed
):
    """Two workers hold the same expired access token and refresh together: the second
    waits for the first's refresh (the connection's row lock), reads the tokens it stored
    and uses them. Lightspeed's refresh token is single-use: spent twice, the second would
    be refused (``invalid_grant``) and the company disconnected."""
    if lightspeed_connected.dialect != "postgresql":
        pytest.skip("PostgreSQL only: two processes' row locks (SQLite has one writer)")
    lightspeed.expire_access_tokens()
    workers = [
        ConnectionTokens(
            lightspeed_connected.factory,
            lightspeed_connected.connection_id,
            secret_box(settings),
            oauth_config(settings),
            policy,
        )
        for _ in range(2)
    ]
    stale = [worker.current() for worker in workers]
    hold = Hold()
    lightspeed.faults.add(Fault(before=hold), path="/token", times=1)
    fresh: list[object] = [None, None]

    def refresh(index: int) -> None:
        fresh[index] = workers[index].refresh(stale[index])

    first = threading.Thread(target=refresh, args=(0,))
    first.start()
    assert hold.arrived.wait(30), "the first refresh is at Lightspeed"
    second = threading.Thread(target=refresh, args=(1,))
    second.start()
    _waiting_for_locks(lightspeed_connected, 1)
    hold.release.set()
    first.join(30)
    second.join(30)
    assert fresh[0] is not None and fresh[0] == fresh[1]
    assert [r.status for r in lightspeed.requests if r.path.endswith("/token")][-1:] == [200]
    assert len([r for r in lightspeed.requests if r.path.endswith("/token")]) == 2, (
        "the connect's exchange and one refresh"
    )
    with lightspeed_connected.session() as session:
        status = session.get_one(Connection, lightspeed_connected.connection_id).status
    assert status is ConnectionStatus.CONNECTED
