"""HTTP for POS clients: timeouts on every request, and retries with backoff as a transport.

Retried: 429 (honouring ``Retry-After``), 500/502/503/504, connection errors, timeouts and
bodies cut short, with capped exponential backoff and full jitter. Only idempotent requests
are retried after they may have reached the server; a request that never connected is always
safe to send again. Other 4xx answers are returned at once.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from stockpot.core import metrics

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


@dataclass
class RetryPolicy:
    attempts: int = 5
    """Tries in all, the first included."""
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    """A longer ``Retry-After`` is not waited for: the request fails as unavailable instead."""
    timeout: httpx.Timeout = field(default_factory=lambda: TIMEOUT)
    """Per request: a slow answer counts as cut short, and is retried."""
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    jitter: Callable[[float], float] = field(default=lambda cap: random.uniform(0, cap), repr=False)

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base × 2^attempt)]."""
        return self.jitter(min(self.max_delay, self.base_delay * 2**attempt))


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryTransport(httpx.BaseTransport):
    """Wraps a transport; reads each body inside the retry loop so a cut body is retried too.
    Every try and every retry is counted for ``provider`` (the metrics)."""

    def __init__(
        self,
        policy: RetryPolicy,
        inner: httpx.BaseTransport | None = None,
        *,
        provider: str = "other",
    ) -> None:
        self.policy = policy
        self.inner = inner or httpx.HTTPTransport()
        self.provider = provider

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        policy = self.policy
        for attempt in range(policy.attempts):
            last = attempt == policy.attempts - 1
            try:
                response = self.inner.handle_request(request)
                response.read()
            except httpx.ConnectError:
                metrics.pos_request(self.provider, None)
                if last:
                    raise
                self._wait(request, policy.backoff(attempt), "connection failed", "connection")
                continue
            except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError):
                metrics.pos_request(self.provider, None)
                if last or request.method not in IDEMPOTENT:
                    raise
                self._wait(request, policy.backoff(attempt), "answer cut short", "cut_short")
                continue
            metrics.pos_request(self.provider, response.status_code)
            if response.status_code not in RETRY_STATUSES or last:
                return response
            if request.method not in IDEMPOTENT and response.status_code != 429:
                return response
            delay = retry_after_seconds(response.headers.get("Retry-After"))
            if delay is not None and delay > policy.max_retry_after:
                return response
            response.close()
            wait = delay if delay is not None else policy.backoff(attempt)
            status = response.status_code
            self._wait(request, wait, f"HTTP {status}", "429" if status == 429 else "5xx")
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait(self, request: httpx.Request, seconds: float, why: str, reason: str) -> None:
        metrics.pos_retry(self.provider, reason)
        log.info("%s %s: %s, retrying in %.2f s", request.method, request.url.path, why, seconds)
        self.policy.sleep(seconds)

    def close(self) -> None:
        self.inner.close()


class RequestPacer:
    """At most ``rate`` requests per second, shared by every client of one POS connection in
    this process: each request takes the next free slot and waits for it."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate
        self._clock = clock
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self, sleep: Callable[[float], None] = time.sleep) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            sleep(slot - now)


_pacers: dict[str, RequestPacer] = {}
_pacers_lock = threading.Lock()


def pacer_for(key: str, rate: float) -> RequestPacer:
    """The process's pacer for ``key`` (a connection), made on first use."""
    with _pacers_lock:
        pacer = _pacers.get(key)
        if pacer is None or pacer.interval != 1.0 / rate:
            pacer = _pacers[key] = RequestPacer(rate)
        return pacer


class PacedTransport(httpx.BaseTransport):
    def __init__(self, pacer: RequestPacer, inner: httpx.BaseTransport | None = None) -> None:
        self.pacer = pacer
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.pacer.wait()
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def make_client(
    base_url: str,
    *,
    policy: RetryPolicy | None = None,
    auth: httpx.Auth | None = None,
    headers: dict[str, str] | None = None,
    pacer: RequestPacer | None = None,
    provider: str = "other",
) -> httpx.Client:
    """A client that retries (every retry paced too, when a pacer is given); its requests
    are counted under ``provider``."""
    policy = policy or RetryPolicy()
    inner = PacedTransport(pacer) if pacer is not None else None
    return httpx.Client(
        base_url=base_url,
        transport=RetryTransport(policy, inner, provider=provider),
        timeout=policy.timeout,
        auth=auth,
        headers={"Accept": "application/json", "User-Agent": "Stockpot", **(headers or {})},
    )
