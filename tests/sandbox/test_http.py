"""The shared sandbox plumbing: routing, the clock, and each kind of fault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from stockpot.sandbox.http import Clock, Fault, Response, SandboxServer


class Echo(SandboxServer):
    def __init__(self) -> None:
        super().__init__()
        self.route(
            "GET",
            r"/echo/(?P<word>\w+)",
            lambda r: Response.json({"word": r.params["word"], "q": r.arg("q")}),
        )
        self.route("GET", r"/now", lambda r: Response.json({"now": self.clock.now().isoformat()}))


@pytest.fixture
def echo():
    with Echo().running() as server:
        yield server


def test_routes_answer_and_unknown_paths_are_404(echo):
    assert httpx.get(f"{echo.url}/echo/hello?q=1").json() == {"word": "hello", "q": "1"}
    assert httpx.get(f"{echo.url}/nope").status_code == 404
    assert [(r.path, r.status) for r in echo.requests] == [("/echo/hello", 200), ("/nope", 404)]


def test_the_clock_can_be_set_and_advanced(echo):
    echo.clock.set(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
    echo.clock.advance(timedelta(hours=2))
    assert httpx.get(f"{echo.url}/now").json() == {"now": "2026-03-29T02:30:00+00:00"}
    with pytest.raises(ValueError, match="aware"):
        Clock().set(datetime(2026, 1, 1))  # noqa: DTZ001


def test_status_faults_apply_to_matching_paths_for_the_given_count(echo):
    echo.faults.add(
        Fault.status(429, {"error": "slow down"}, {"Retry-After": "1"}),
        path="/echo",
        times=2,
        after=1,
    )
    statuses = [httpx.get(f"{echo.url}/echo/a").status_code for _ in range(4)]
    assert statuses == [200, 429, 429, 200]
    assert httpx.get(f"{echo.url}/now").status_code == 200


def test_truncated_bodies_and_dropped_connections_reach_the_client(echo):
    echo.faults.add(Fault(truncate=True))
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{echo.url}/echo/truncated")
    echo.faults.add(Fault(drop=True))
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{echo.url}/echo/dropped")
    assert httpx.get(f"{echo.url}/echo/fine").status_code == 200


def test_a_hook_runs_before_the_normal_answer(echo):
    seen = []
    echo.faults.add(Fault(before=lambda: seen.append("hook")))
    assert httpx.get(f"{echo.url}/echo/x").status_code == 200
    assert seen == ["hook"]
