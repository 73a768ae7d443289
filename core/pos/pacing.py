"""Pacing the requests of one POS connection: a token bucket shared by every request of that
connection in this process, that waits out a ``Retry-After`` for all of them and slows down
after a 429.

Why a pacer and not only retries: a 429 costs its ``Retry-After`` (a second or more) while the
connection's limit allowed several requests in that time; a migration that bursts into the
limit loses more to the waits than it gains from the burst. Paced, it never gets there.

The rate is the POS's documented (or assumed) policy unless a setting or the connection says
otherwise (see ``core.pos.connections.rate_for``). The bucket runs ``HEADROOM`` below it: the
POS counts when requests *arrive*, which drifts by a few milliseconds from when they leave
here, so pacing at exactly the limit would now and then put one request too many in its
window. Waiting happens in the request's own thread, which never holds a database transaction
(connectors are called outside them; see ``core.pos.connections``). Not a library: none of
the rate limiters on PyPI waits out a server's ``Retry-After`` for every waiter or adapts to a
429, which is most of what this does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

HEADROOM = 0.02
"""The bucket refills this share below the configured rate (20 ms in a one-second window)."""
SLOWDOWN = 0.75
"""After a 429 the rate is multiplied by this (once per throttled spell, however many
requests in flight were answered 429)..."""
RECOVERY = 0.02
"""...and grows back by this share of the configured rate with every request answered."""
FLOOR = 0.1
"""The rate never goes below this share of the configured rate."""
EPSILON = 1e-6
"""A wait shorter than this (a rounding error) is no wait."""
"""The rate never goes below this share of the configured rate."""


@dataclass(frozen=True)
class RatePolicy:
    """At most ``per_second`` requests a second, at most ``burst`` of them at once."""

    per_second: float
    burst: int = 1

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError(f"a rate policy needs a positive rate and burst, not {self}")


class Pacer:
    """A token bucket that requests take from before they are sent.

    ``acquire`` blocks the calling thread until its request may go; waiters are served one at
    a time, in the order they arrived. ``throttled`` (a 429) pauses every request until the
    ``Retry-After`` has passed and lowers the rate; ``answered`` lets it grow back;
    ``pause_for`` pauses without slowing down (the POS said its window is used up)."""

    def __init__(
        self,
        policy: RatePolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy
        self.rate = policy.per_second
        """The rate now: the policy's, or lower for a while after a 429."""
        self._clock = clock
        self.sleep = sleep
        """How ``acquire`` waits when not told otherwise."""
        self._tokens = float(policy.burst)
        self._filled_at = clock()
        self._paused_until = 0.0
        self._state = threading.Lock()
        self._turn = threading.Lock()

    def acquire(self, *, honour_pause: bool = True) -> float:
        """Wait for this request's turn; returns the seconds waited. The token is taken when
        the wait is over, so a thread that wakes late delays the requests after it rather
        than crowding them. ``honour_pause=False``: the request has already waited out the
        ``Retry-After`` it was answered (its retry), only the rate applies."""
        waited = 0.0
        with self._turn:
            not_before = self._clock()
            while True:
                with self._state:
                    # A sleep is at least as long as asked for (one that records instead of
                    # sleeping, in tests, counts as if it had slept).
                    now = max(self._clock(), not_before)
                    self._refill(now)
                    wait = (1.0 - self._tokens) / self._refill_rate
                    if honour_pause:
                        wait = max(wait, self._paused_until - now)
                    if wait <= EPSILON:
                        self._tokens -= 1.0
                        return waited
                self.sleep(wait)
                waited += wait
                not_before = now + wait

    def sent(self) -> None:
        """The request that took the last token has now actually left. Between its turn and
        the socket a thread can lose the interpreter lock for tens of milliseconds (to another
        thread parsing a large answer); the next request is spaced from when this one left,
        or two would reach the POS together."""
        with self._state:
            self._refill(self._clock())
            self._tokens = min(self._tokens, self.policy.burst - 1.0)

    def throttled(self, retry_after: float | None) -> None:
        """The POS answered 429: nobody sends before ``retry_after`` seconds (one interval if
        it did not say), and the rate drops unless this spell was already counted."""
        with self._state:
            now = self._clock()
            self._refill(now)
            if now >= self._paused_until:
                self.rate = max(self.policy.per_second * FLOOR, self.rate * SLOWDOWN)
            wait = retry_after if retry_after is not None else 1.0 / self.rate
            self._paused_until = max(self._paused_until, now + wait)
            self._tokens = min(self._tokens, 0.0)

    def pause_for(self, seconds: float) -> None:
        """Nobody sends for ``seconds`` (the POS's window is used up until then)."""
        with self._state:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def answered(self) -> None:
        """A request was answered (not 429): the rate grows back towards the policy's."""
        with self._state:
            if self.rate < self.policy.per_second:
                self._refill(self._clock())
                self.rate = min(
                    self.policy.per_second, self.rate + self.policy.per_second * RECOVERY
                )

    @property
    def _refill_rate(self) -> float:
        return self.rate * (1.0 - HEADROOM)

    def _refill(self, now: float) -> None:
        if now > self._filled_at:
            elapsed = now - self._filled_at
            self._tokens = min(float(self.policy.burst), self._tokens + elapsed * self._refill_rate)
            self._filled_at = now


_pacers: dict[str, Pacer] = {}
_pacers_lock = threading.Lock()


def pacer_for(key: str, policy: RatePolicy) -> Pacer:
    """The process's pacer for ``key`` (a connection), made on first use and made anew when
    the connection's policy changed."""
    with _pacers_lock:
        pacer = _pacers.get(key)
        if pacer is None or pacer.policy != policy:
            pacer = _pacers[key] = Pacer(policy)
        return pacer


def forget_pacers() -> None:
    """Start every connection's pacing afresh (tests: connection ids are used again)."""
    with _pacers_lock:
        _pacers.clear()
