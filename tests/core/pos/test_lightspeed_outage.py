"""The database goes away for a few seconds while a Lightspeed token is refreshed, after
Lightspeed has rotated the (single-use) refresh token: the new tokens are stored once the
database is back, and the connection keeps working (PostgreSQL, over real HTTP)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from stockpot.core.models import Connection, ConnectionStatus
from stockpot.core.pos import connections
from stockpot.sandbox.http import Fault
from tests.core.jobs.test_database_outage import Outage

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
