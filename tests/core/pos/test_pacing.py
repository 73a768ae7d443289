"""Pacing a POS connection: the token bucket on its own (a clock that only moves when told,
waits recorded), then over real loopback HTTP against the sandboxes with their rate limits
on: a migration never meets Lightspeed's limit, a 429's ``Retry-After`` is still waited out,
and SIDES pauses when its window is used up instead of being answered 429. The spacing is
read from the sandbox's own record of when each request arrived, never from a stopwatch."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from stockpot.core.errors import ValidationFailed
from stockpot.core.migration import migrate, plan
from stockpot.core.models import Connection, ExternalLocation, Provider
from stockpot.core.pos import connections
from stockpot.core.pos.http import RetryPolicy
from stockpot.core.pos.lightspeed.connector import RATE_POLICY as LIGHTSPEED_POLICY
from stockpot.core.pos.pacing import HEADROOM, SLOWDOWN, Pacer, RatePolicy, pacer_for
from stockpot.core.pos.sides.api import RATE_POLICY as SIDES_POLICY
from stockpot.core.settings import Settings

SALES = "sales-daily"


class FakeTime:
    """A clock that moves only when slept on; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def fake():
    return FakeTime()


def test_requests_go_one_interval_apart_with_headroom_and_at_once_after_a_quiet_spell(fake):
    pacer = Pacer(RatePolicy(5), clock=fake.clock, sleep=fake.sleep)
    for _ in range(4):
        pacer.acquire()
    interval = 1 / (5 * (1 - HEADROOM))
    assert fake.slept == pytest.approx([interval] * 3)
    fake.now += 10
    assert pacer.acquire() == 0, "after a quiet spell the next request goes at once"
    burst = Pacer(RatePolicy(5, burst=3), clock=fake.clock, sleep=fake.sleep)
    assert [burst.acquire() for _ in range(4)] == pytest.approx([0, 0, 0, interval])


def test_a_request_that_leaves_late_spaces_the_next_from_when_it_left(fake):
    pacer = Pacer(RatePolicy(5), clock=fake.clock, sleep=fake.sleep)
    pacer.acquire()
    fake.now += 0.15  # its thread lost the interpreter lock before the socket
    pacer.sent()
    assert pacer.acquire() == pytest.approx(1 / (5 * (1 - HEADROOM)))


def test_a_429_pauses_every_request_slows_down_once_and_recovers(fake):
    pacer = Pacer(RatePolicy(10), clock=fake.clock, sleep=fake.sleep)
    pacer.acquire()
    pacer.throttled(2.0)
    pacer.throttled(2.0)  # two requests in flight answered 429: one spell, one slowdown
    assert pacer.rate == pytest.approx(10 * SLOWDOWN)
    assert pacer.acquire() == pytest.approx(2.0), "nobody sends before Retry-After"
    pacer.throttled(None)  # a 429 after the pause: a new spell
    assert pacer.rate == pytest.approx(10 * SLOWDOWN**2)
    for _ in range(200):
        pacer.answered()
    assert pacer.rate == 10, "back to the policy's rate, never above"
    pacer.pause_for(30)
    assert pacer.acquire() == pytest.approx(30)
    assert pacer.rate == 10, "a used-up window is no reason to slow down"


def test_a_waiter_sees_a_pause_that_comes_while_it_waits(fake):
    def sleep(seconds: float) -> None:
        fake.sleep(seconds)
        if len(fake.slept) == 1:
            pacer.throttled(5)  # another thread's request was answered 429 meanwhile

    pacer = Pacer(RatePolicy(1), clock=fake.clock, sleep=sleep)
    pacer.acquire()
    assert pacer.acquire() == pytest.approx(1 / (1 - HEADROOM) + 5)
    pacer.throttled(7)
    assert pacer.acquire(honour_pause=False) < 7, "a retry that waited its Retry-After goes"


def test_one_pacer_per_connection_made_anew_when_its_policy_changes():
    one = pacer_for("test:connection:1", RatePolicy(5))
    assert pacer_for("test:connection:1", RatePolicy(5)) is one
    assert pacer_for("test:connection:2", RatePolicy(5)) is not one
    assert pacer_for("test:connection:1", RatePolicy(3)) is not one


def test_the_pace_is_the_connections_else_the_settings_else_the_documented_one(monkeypatch):
    monkeypatch.delenv("STOCKPOT_POS_REQUESTS_PER_SECOND", raising=False)
    documented = Settings()
    assert connections.rate_policy(Provider.LIGHTSPEED, {}, documented) == LIGHTSPEED_POLICY
    assert LIGHTSPEED_POLICY.per_second == 5, "Lightspeed's guidance: about 5 a second"
    assert connections.rate_policy(Provider.SIDES, {}, documented) == SIDES_POLICY
    assert SIDES_POLICY.per_second == 2, "SIDES (assumed): 120 a minute"
    configured = Settings(pos_requests_per_second=3)
    assert connections.rate_policy(Provider.SIDES, {}, configured).per_second == 3
    own = {connections.RATE_SETTING: 1.5}
    assert connections.rate_policy(Provider.SIDES, own, configured).per_second == 1.5


def test_a_connection_is_given_its_own_pace_and_back(lightspeed_connected, settings):
    database, connection_id = lightspeed_connected, lightspeed_connected.connection_id
    assert connections.set_pace(database.factory, settings, connection_id, 4).per_second == 4
    back = connections.set_pace(database.factory, settings, connection_id, None)
    assert back.per_second == settings.pos_requests_per_second
    with pytest.raises(ValidationFailed, match="between 0 and 1000"):
        connections.set_pace(database.factory, settings, connection_id, 0)


# --- over HTTP ------------------------------------------------------------------------------


def arrivals(server, path: str) -> list[float]:
    return sorted(r.arrived for r in server.requests if path in r.path)


def busiest_second(times: list[float]) -> int:
    """The most requests that arrived within any one second."""
    return max((sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times)))


def pacer_of(database, settings, provider: Provider) -> Pacer:
    """The pacer the test connection's requests take their turn from."""
    with database.session() as session:
        options = dict(session.get_one(Connection, database.connection_id).settings or {})
    return connections.connection_pacer(provider, database.connection_id, options, settings)


class ConnectionHolders:
    """Which threads hold a pooled database connection (a transaction) right now."""

    def __init__(self, engine) -> None:
        self.threads: set[int] = set()
        self._lock = threading.Lock()
        event.listen(engine, "checkout", self._out)
        event.listen(engine, "checkin", self._in)

    def _out(self, *_: object) -> None:
        with self._lock:
            self.threads.add(threading.get_ident())

    def _in(self, *_: object) -> None:
        with self._lock:
            self.threads.discard(threading.get_ident())


LIMIT = 10
PACE = 8
"""Below the sandbox's limit: this process shares its cores with the sandbox and the tests'
other threads, so arrivals drift more than the pacer's headroom allows for in production."""


def test_a_paced_migration_never_meets_the_rate_limit_nor_waits_in_a_transaction(
    lightspeed_connected, settings, lightspeed
):
    database = lightspeed_connected
    connections.set_pace(database.factory, settings, database.connection_id, PACE)
    holders = ConnectionHolders(database.engine)
    waits_in_transactions: list[float] = []

    def sleep(seconds: float) -> None:
        if threading.get_ident() in holders.threads:
            waits_in_transactions.append(seconds)
        time.sleep(seconds)

    pacer_of(database, settings, Provider.LIGHTSPEED).sleep = sleep
    with database.session() as session:
        progress = plan(session, session.get_one(ExternalLocation, database.location_id), 16)
    lightspeed.rate_limit = LIMIT
    before = len(arrivals(lightspeed, SALES))
    done = migrate(database.factory, settings, database.location_id, progress)
    assert (done.done, done.failed) == (16, [])
    assert lightspeed.throttled == 0, "no request was answered 429"
    times = arrivals(lightspeed, SALES)[before:]
    assert len(times) == 16
    assert busiest_second(times) <= LIMIT
    assert all(b > a for a, b in itertools.pairwise(times)), "one after another, never at once"
    assert waits_in_transactions == []


def test_a_429_is_still_waited_out_and_the_migration_goes_on(
    lightspeed_connected, settings, lightspeed
):
    database = lightspeed_connected
    connections.set_pace(database.factory, settings, database.connection_id, PACE)
    with database.session() as session:
        progress = plan(session, session.get_one(ExternalLocation, database.location_id), 4)
    lightspeed.inject_error(429, path=SALES, times=1, after=1, retry_after=1)
    start = len(lightspeed.requests)
    done = migrate(database.factory, settings, database.location_id, progress)
    assert (done.done, done.failed) == (4, [])
    answered = [r for r in lightspeed.requests[start:] if SALES in r.path]
    throttled = next(r for r in answered if r.status == 429)
    retried = next(
        r for r in answered if r.status == 200 and r.query["date"] == throttled.query["date"]
    )
    assert retried.arrived - throttled.arrived >= 1.0, "Retry-After: 1 was waited out"
    assert len(answered) == 5


def test_sides_pauses_until_its_window_resets_instead_of_meeting_429(connected, settings, sides):
    """SIDES says how many requests its window has left; at 0 every request of the connection
    waits for the reset (the sandbox's clock moves by what the client waits)."""
    sides.clock.set(datetime.now(UTC))  # stands still but for the client's waits
    sides.requests_per_minute = 3
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        sides.clock.advance(timedelta(seconds=seconds))

    policy = RetryPolicy(sleep=sleep)
    pacer_of(connected, settings, Provider.SIDES).sleep = sleep
    start = len(sides.requests)
    with connected.session() as session:
        last = plan(session, session.get_one(ExternalLocation, connected.location_id), 1).last
    with connections.DayFetcher(
        connected.factory, settings, connected.location_id, policy=policy
    ) as fetch:
        for back in range(5):
            fetch(last - timedelta(days=back))
    statuses = [r.status for r in sides.requests[start:]]
    assert 429 not in statuses
    assert statuses.count(200) >= 5
    assert any(wait > 1 for wait in waits), "waited for the window to reset"
