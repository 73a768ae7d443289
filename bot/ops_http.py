"""The routes an operator's tools read, in front of any Stockpot WSGI app: ``/healthz`` (the
process answers), ``/readyz`` (database reachable, schema current; for a worker, a worker
beating) and ``/metrics`` (Prometheus). Every request gets a request id for the log and is
counted."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy.orm import Session, sessionmaker

from stockpot.bot.health import readiness
from stockpot.core import log_context, metrics
from stockpot.core.settings import Settings

StartResponse = Callable[..., Any]
Wsgi = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

ROUTES = {
    "/slack/events": "slack_events",
    "/slack/install": "slack_install",
    "/slack/oauth_redirect": "slack_install",
    "/lightspeed/oauth/start": "lightspeed_start",
    "/lightspeed/oauth/callback": "lightspeed_callback",
    "/healthz": "healthz",
    "/readyz": "readyz",
    "/metrics": "metrics",
}
"""Paths counted under their own label; any other is ``other`` (bounded label values)."""


class OpsRoutes:
    def __init__(
        self, inner: Wsgi | None, factory: sessionmaker[Session], settings: Settings
    ) -> None:
        self.inner = inner
        self.factory = factory
        self.max_beat_age = timedelta(seconds=settings.ready_heartbeat_seconds)
        self.workers_needed = inner is None
        """A process serving Slack (``inner``) is ready without a worker: it acks and queues,
        and the answers wait for one. Were its readiness to need a worker, a load balancer
        would take every web process out while the workers are down, and Slack's requests
        would get no ack at all. A worker's own routes are ready while workers beat."""
        metrics.watch_queue(factory)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        route = ROUTES.get(path, "other")
        statuses: list[str] = []

        def counting(status: str, headers: list[Any], *args: Any) -> Any:
            statuses.append(status.split(" ", 1)[0])
            return start_response(status, headers, *args)

        given = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = given if given.isascii() and 0 < len(given) <= 64 else None
        metrics.HTTP_IN_FLIGHT.inc()
        try:
            with log_context.bound(request_id=request_id or log_context.new_request_id()):
                return self._route(path, environ, counting)
        finally:
            metrics.HTTP_IN_FLIGHT.dec()
            metrics.HTTP_REQUESTS.labels(route, statuses[0] if statuses else "none").inc()

    def _route(
        self, path: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        if path == "/healthz":
            return _answer(start_response, "200 OK", b"ok", "text/plain")
        if path == "/readyz":
            checks = readiness(self.factory, self.max_beat_age, workers_needed=self.workers_needed)
            ready = all(check.ok for check in checks if check.needed)
            body = json.dumps(
                {"ready": ready, "checks": [check.to_json() for check in checks]}
            ).encode()
            status = "200 OK" if ready else "503 Service Unavailable"
            return _answer(start_response, status, body, "application/json")
        if path == "/metrics":
            return _answer(start_response, "200 OK", generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
        if self.inner is None:
            return _answer(start_response, "404 Not Found", b"not found", "text/plain")
        # The body is produced here, inside the request's log context.
        return list(self.inner(environ, start_response))


def _answer(
    start_response: StartResponse, status: str, body: bytes, content_type: str
) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
