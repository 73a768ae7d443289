"""The queueing of acked requests' answers (``bot/acks.py``) outside Slack's round trip."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from stockpot.bot import acks


def test_a_batch_that_cannot_be_queued_does_not_stop_the_later_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One task at a time queues what was acked: if a batch raised out of it, every request
    acked afterwards would wait on a task that is gone, and never be answered."""
    seen: list[list[Any]] = []

    def queue(batch: list[Any], *, burst: bool) -> None:
        seen.append(list(batch))
        if len(seen) == 1:
            raise RuntimeError("the database went away")

    monkeypatch.setattr(acks, "queue", queue)
    pool = ThreadPoolExecutor(max_workers=1)
    batches = acks.AnswerBatches(pool)
    batches.add("first")  # type: ignore[arg-type]
    pool.submit(lambda: None).result()  # one thread: the first batch's task has ended
    batches.add("second")  # type: ignore[arg-type]
    pool.shutdown(wait=True)
    assert seen == [["first"], ["second"]]
