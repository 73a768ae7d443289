"""HTTP for POS clients: timeouts on every request, and retries with backoff as a transport.

Retried: 429 (honouring ``Retry-After``), 500/502/503/504, connection errors, timeouts and
bodies cut short, with capped exponential backoff and full jitter. Only idempotent requests
are retried after they may have reached the server; a request that never connected is always
safe to send again. Other 4xx answers are returned at once.
"""

from __future__ import annotations

import email.utils
import functools
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx

from stockpot.core import metrics
from stockpot.core.pos.pacing import Pacer

if TYPE_CHECKING:
    import ssl

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
RETRY_AFTER_WAITED = "stockpot.retry_after_waited"
"""Marks a retry that has waited out its 429's wait: the connection's pause (made of that
same wait) does not hold it again."""


class OutOfTime(httpx.TimeoutException):
    """A call with a ``Deadline`` got no answer in its time (its tries' timeouts are cut to
    what is left of it, so any timeout is the deadline's)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer within {seconds:g} s")
        self.seconds = seconds


@dataclass(frozen=True)
class Deadline:
    """The time a whole call has, every try and every wait between them included: for a
    call someone waits for (a form's check, answered inside Slack's 3 s ack)."""

    seconds: float
    ends: float

    @classmethod
    def starting_now(cls, seconds: float) -> Deadline:
        return cls(seconds, time.monotonic() + seconds)

    def left(self) -> float:
        return self.ends - time.monotonic()

    def bound(self, request: httpx.Request) -> None:
        """Cut the request's timeouts to the time left; none left is ``OutOfTime``."""
        left = self.left()
        if left <= 0:
            raise OutOfTime(self.seconds)
        given = request.extensions["timeout"]
        request.extensions["timeout"] = {
            name: left if value is None else min(value, left) for name, value in given.items()
        }


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS context httpx makes by default (certifi's CAs, or ``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR`` as this process started with), made once and shared by every client:
    reading the CA bundle takes ~25 ms, and each POS client and file download made its own."""
    return httpx.create_ssl_context()


def transport() -> httpx.HTTPTransport:
    return httpx.HTTPTransport(verify=tls_context())


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
    deadline: Deadline | None = None

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
        self.inner = inner or transport()
        self.provider = provider

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        policy = self.policy
        # httpx gives its timeouts only to the request sent, not to one an auth flow makes
        # (SIDES's sign-in): without this, a sign-in SIDES never answered was waited for ever.
        request.extensions.setdefault("timeout", policy.timeout.as_dict())
        for attempt in range(policy.attempts):
            last = attempt == policy.attempts - 1
            if policy.deadline is not None:
                policy.deadline.bound(request)
            try:
                response = self.inner.handle_request(request)
                response.read()
            except httpx.ConnectError:
                metrics.pos_request(self.provider, None)
                backoff = policy.backoff(attempt)
                if last or not self._has_time(backoff):
                    raise
                self._wait(request, backoff, "connection failed", "connection")
                continue
            except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError) as error:
                metrics.pos_request(self.provider, None)
                if policy.deadline is not None and isinstance(error, httpx.TimeoutException):
                    raise OutOfTime(policy.deadline.seconds) from None
                backoff = policy.backoff(attempt)
                if last or request.method not in IDEMPOTENT or not self._has_time(backoff):
                    raise
                self._wait(request, backoff, "answer cut short", "cut_short")
                continue
            metrics.pos_request(self.provider, response.status_code)
            if response.status_code not in RETRY_STATUSES or last:
                return response
            if request.method not in IDEMPOTENT and response.status_code != 429:
                return response
            delay = retry_after_seconds(response.headers.get("Retry-After"))
            if delay is not None and delay > policy.max_retry_after:
                return response
            wait = delay if delay is not None else policy.backoff(attempt)
            if not self._has_time(wait):
                return response
            response.close()
            status = response.status_code
            self._wait(request, wait, f"HTTP {status}", "429" if status == 429 else "5xx")
            if status == 429:
                request.extensions[RETRY_AFTER_WAITED] = True
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _has_time(self, wait: float) -> bool:
        """Whether a retry after ``wait`` still starts within the call's deadline, if any."""
        deadline = self.policy.deadline
        return deadline is None or wait < deadline.left()

    def _wait(self, request: httpx.Request, seconds: float, why: str, reason: str) -> None:
        metrics.pos_retry(self.provider, reason)
        log.info("%s %s: %s, retrying in %.2f s", request.method, request.url.path, why, seconds)
        self.policy.sleep(seconds)

    def close(self) -> None:
        self.inner.close()


HEADERS_SENT = "send_request_headers.complete"
"""httpcore's trace event (``http11.`` or ``http2.`` before it) when a request has left."""
RATE_LIMIT_REMAINING = "X-RateLimit-Remaining"
RATE_LIMIT_RESET = "X-RateLimit-Reset"
EPOCH_RESET = 1_000_000_000
"""An ``X-RateLimit-Reset`` above this is an epoch time, below it seconds from now."""
RESET_MARGIN = 1.0
"""Seconds added to a window's reset: an epoch reset is read against our clock, not the POS's
(and the epoch is whole seconds)."""


def window_reset_seconds(headers: httpx.Headers, max_wait: float) -> float | None:
    """Seconds until the POS's rate window resets, when it says the window is used up
    (``X-RateLimit-Remaining: 0``); ``None`` otherwise or beyond ``max_wait``."""
    remaining, reset = headers.get(RATE_LIMIT_REMAINING), headers.get(RATE_LIMIT_RESET)
    if remaining is None or remaining.strip() != "0" or reset is None:
        return None
    try:
        value = float(reset)
    except ValueError:
        return None
    seconds = (value - time.time() if value > EPOCH_RESET else value) + RESET_MARGIN
    return seconds if 0 < seconds <= max_wait else None


class PacedTransport(httpx.BaseTransport):
    """Every try takes its turn from the connection's pacer, and every answer tells it how
    the POS took it: a 429 pauses and slows every request of the connection, a used-up rate
    window pauses them until it resets."""

    def __init__(
        self, pacer: Pacer, policy: RetryPolicy, inner: httpx.BaseTransport | None = None
    ) -> None:
        self.pacer = pacer
        self.policy = policy
        self.inner = inner or transport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.pacer.acquire(honour_pause=not request.extensions.pop(RETRY_AFTER_WAITED, False))
        earlier = request.extensions.get("trace")

        def trace(event: str, info: dict[str, object]) -> None:
            if event.endswith(HEADERS_SENT):
                self.pacer.sent()
            if earlier is not None:
                earlier(event, info)

        request.extensions["trace"] = trace
        try:
            response = self.inner.handle_request(request)
        finally:
            if earlier is None:
                request.extensions.pop("trace", None)
            else:
                request.extensions["trace"] = earlier
        if response.status_code == 429:
            delay = retry_after_seconds(response.headers.get("Retry-After"))
            self.pacer.throttled(None if delay is None else min(delay, self.policy.max_retry_after))
            return response
        self.pacer.answered()
        reset = window_reset_seconds(response.headers, self.policy.max_retry_after)
        if reset is not None:
            self.pacer.pause_for(reset)
        return response

    def close(self) -> None:
        self.inner.close()


def make_client(
    base_url: str,
    *,
    policy: RetryPolicy | None = None,
    auth: httpx.Auth | None = None,
    headers: dict[str, str] | None = None,
    pacer: Pacer | None = None,
    provider: str = "other",
) -> httpx.Client:
    """A client that retries (every retry paced too, when a pacer is given); its requests
    are counted under ``provider``."""
    policy = policy or RetryPolicy()
    inner = PacedTransport(pacer, policy) if pacer is not None else None
    return httpx.Client(
        base_url=base_url,
        transport=RetryTransport(policy, inner, provider=provider),
        timeout=policy.timeout,
        auth=auth,
        headers={"Accept": "application/json", "User-Agent": "Stockpot", **(headers or {})},
    )
