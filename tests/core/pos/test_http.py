"""Retries over real HTTP against a loopback server with injected faults. Waits are recorded
instead of slept, so the test proves which delays were honoured without waiting for them."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from stockpot.core.pos.base import send
from stockpot.core.pos.errors import PosRequestRefused, PosTooSlow, PosUnavailable
from stockpot.core.pos.http import Deadline, RetryPolicy, make_client, retry_after_seconds
from stockpot.core.pos.pacing import Pacer, RatePolicy
from stockpot.sandbox.http import Fault, Response, SandboxServer
from tests.holds import Hold


class Api(SandboxServer):
    def __init__(self) -> None:
        super().__init__()
        self.route("GET", r"/things", lambda r: Response.json({"things": [1, 2, 3]}))
        self.route("POST", r"/things", lambda r: Response.json({"created": True}, 201))


@pytest.fixture
def api():
    with Api().running() as server:
        yield server


@pytest.fixture
def waits():
    return []


@pytest.fixture
def client(api, waits):
    policy = RetryPolicy(attempts=4, sleep=waits.append, jitter=lambda cap: cap)
    with make_client(api.url, policy=policy) as client:
        yield client


def get(client):
    return send(client, "GET", "/things", service="Test POS")


def test_429_waits_as_long_as_retry_after_says(api, client, waits):
    api.faults.add(Fault.status(429, {"error": "slow down"}, {"Retry-After": "7"}), times=2)
    assert get(client) == {"things": [1, 2, 3]}
    assert waits == [7.0, 7.0]


def test_5xx_and_cut_answers_back_off_exponentially_then_succeed(api, client, waits):
    api.faults.add(Fault.status(503))
    api.faults.add(Fault(truncate=True))
    api.faults.add(Fault(drop=True))
    assert get(client) == {"things": [1, 2, 3]}
    assert waits == [0.5, 1.0, 2.0]
    assert len(api.requests) == 4


def test_an_answer_slower_than_the_timeout_is_retried(api, waits):
    api.faults.add(Fault(delay=2.0))
    policy = RetryPolicy(timeout=httpx.Timeout(0.2), sleep=waits.append, jitter=lambda cap: cap)
    with make_client(api.url, policy=policy) as client:
        assert get(client) == {"things": [1, 2, 3]}
    assert waits == [0.5]


def test_a_call_with_a_deadline_gives_up_when_it_passes_and_says_so(api, waits):
    """Not the 30 s a try may take, retried: the call someone waits for (a form's check)."""
    hold = Hold()
    api.faults.add(Fault(before=hold))
    policy = RetryPolicy(deadline=Deadline.starting_now(0.3), sleep=waits.append)
    try:
        with (
            make_client(api.url, policy=policy) as client,
            pytest.raises(PosTooSlow, match=r"^Test POS did not answer within 0\.3 s$"),
        ):
            get(client)
    finally:
        hold.release.set()
    assert hold.arrived.is_set() and waits == []


def test_a_retry_that_cannot_start_before_the_deadline_is_not_waited_for(api, waits):
    api.faults.add(Fault.status(503, {"message": "maintenance"}))
    policy = RetryPolicy(base_delay=60, jitter=lambda cap: cap, sleep=waits.append)
    policy.deadline = Deadline.starting_now(30)
    with (
        make_client(api.url, policy=policy) as client,
        pytest.raises(PosUnavailable, match="HTTP 503: maintenance"),
    ):
        get(client)
    assert waits == [] and len(api.requests) == 1


class SignIn(httpx.Auth):
    """Signs in before the request, as SIDES's does: a request the auth flow makes."""

    def auth_flow(self, request):
        yield httpx.Request("POST", str(request.url.copy_with(path="/things")))
        yield request


def test_a_request_an_auth_flow_makes_has_the_policy_s_timeout(api, waits):
    """httpx gives its timeouts only to the request sent: a sign-in SIDES held was waited
    for without end."""
    hold = Hold(limit=10)
    api.faults.add(Fault(before=hold), path="/things")
    policy = RetryPolicy(timeout=httpx.Timeout(0.2), sleep=waits.append)
    try:
        with (
            make_client(api.url, policy=policy, auth=SignIn()) as client,
            pytest.raises(PosUnavailable, match="ReadTimeout"),
        ):
            get(client)
    finally:
        hold.release.set()
    assert hold.arrived.is_set(), "the sign-in was sent"


def test_giving_up_is_a_clear_transient_error(api, client, waits):
    api.faults.add(Fault.status(502, {"message": "bad gateway"}), times=10)
    with pytest.raises(
        PosUnavailable, match=r"Test POS is unavailable \(HTTP 502: bad gateway\)"
    ) as caught:
        get(client)
    assert caught.value.transient
    assert len(api.requests) == 4 and len(waits) == 3


def test_other_4xx_are_not_retried(api, client, waits):
    api.faults.add(Fault.status(404, {"message": "no such thing"}))
    with pytest.raises(PosRequestRefused, match="no such thing") as caught:
        get(client)
    assert not caught.value.transient
    assert waits == [] and len(api.requests) == 1


def test_a_post_is_not_repeated_after_a_server_error(api, client, waits):
    api.faults.add(Fault.status(503))
    with pytest.raises(PosUnavailable):
        send(client, "POST", "/things", service="Test POS")
    assert len(api.requests) == 1 and waits == []


def test_a_retry_after_beyond_the_limit_is_not_waited_for(api, waits):
    api.faults.add(Fault.status(429, {}, {"Retry-After": "3600"}))
    client = make_client(api.url, policy=RetryPolicy(sleep=waits.append))
    with client, pytest.raises(PosUnavailable, match="HTTP 429"):
        get(client)
    assert waits == []


def test_a_server_that_is_not_there_is_retried_then_reported(waits):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policy = RetryPolicy(attempts=3, sleep=waits.append, jitter=lambda cap: cap)
    client = make_client(f"http://127.0.0.1:{port}", policy=policy)
    with client, pytest.raises(PosUnavailable, match="did not answer"):
        get(client)
    assert waits == [0.5, 1.0]


def test_invalid_json_is_reported_not_crashed_on(api, client):
    api.faults.add(
        Fault(respond=Response(200, b'{"things": [1, 2', {"Content-Type": "application/json"}))
    )
    with pytest.raises(PosUnavailable, match="not valid JSON"):
        get(client)


def test_retry_after_accepts_seconds_and_http_dates():
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("12") == 12.0
    assert (
        retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    )
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_backoff_is_capped_and_jittered_below_the_cap():
    drawn = []
    policy = RetryPolicy(
        base_delay=1, max_delay=10, jitter=lambda cap: drawn.append(cap) or cap / 2
    )
    assert [policy.backoff(attempt) for attempt in range(6)] == [0.5, 1, 2, 4, 5, 5]
    assert drawn == [1, 2, 4, 8, 10, 10]


def test_a_429_pauses_every_client_of_the_connection_for_its_retry_after(api):
    """Two clients (two jobs of one connection in one process) share the connection's pacer:
    one is answered 429 with Retry-After, the other waits it out too before it sends."""
    paced: list[float] = []
    pacer = Pacer(RatePolicy(1000), sleep=paced.append)
    retried: list[float] = []
    first = make_client(api.url, policy=RetryPolicy(sleep=retried.append), pacer=pacer)
    other = make_client(api.url, policy=RetryPolicy(sleep=retried.append), pacer=pacer)
    api.faults.add(Fault.status(429, {"error": "slow down"}, {"Retry-After": "30"}))
    with first, other:
        assert get(first) == {"things": [1, 2, 3]}
        assert retried == [30.0], "the throttled request waits Retry-After, once"
        assert sum(paced) < 1
        assert get(other) == {"things": [1, 2, 3]}
    assert sum(paced) == pytest.approx(30, abs=1), "so does the connection's next request"
    assert pacer.rate < 1000, "and the connection slows down for a while"
    assert [r.status for r in api.requests] == [429, 200, 200]
