"""/healthz, /readyz and /metrics of the running bot, over HTTP."""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from datetime import timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete
from waitress import wasyncore

from stockpot.bot.health import readiness
from stockpot.bot.ops_http import OpsRoutes
from stockpot.bot.server import BackgroundServer
from stockpot.core.db import make_engine, make_session_factory, unit_of_work
from stockpot.core.jobs.heartbeat import HeartbeatThread
from stockpot.core.models import WorkerHeartbeat
from stockpot.core.settings import Settings
from stockpot.migrations import schema
from stockpot.sandbox.http import Fault
from tests.bot.conftest import ADMIN
from tests.bot.test_slack_app import connect_sides, posted, synced

BOUNDED_LABELS = {"kind", "state", "outcome", "provider", "status", "reason", "method", "route"}
BOUNDED_LABELS |= {"type", "le"}


def get(bot, path: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{bot.port}{path}", timeout=10)


def samples(bot) -> dict[tuple[str, tuple], float]:
    text = get(bot, "/metrics").text
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_health_and_readiness(bot):
    assert get(bot, "/healthz").text == "ok"
    ready = get(bot, "/readyz")
    assert ready.status_code == 200, ready.text
    checks = {c["check"]: c for c in ready.json()["checks"]}
    # PostgreSQL's autovacuum is read too: a warning at most, never what readiness waits for
    expected = {"database", "schema", "worker"} | (
        {"autovacuum"} if bot.database.dialect == "postgresql" else set()
    )
    assert set(checks) == expected
    if "autovacuum" in checks:
        assert checks["autovacuum"]["needed"] is False


def test_not_ready_without_a_recent_worker_heartbeat_or_with_an_old_schema(database, tmp_path):
    with unit_of_work(database.factory) as session:
        session.execute(delete(WorkerHeartbeat))
    server = BackgroundServer(OpsRoutes(None, database.factory, Settings()), 0)
    try:
        answer = httpx.get(f"http://127.0.0.1:{server.port}/readyz")
        assert answer.status_code == 503
        worker = next(c for c in answer.json()["checks"] if c["check"] == "worker")
        assert worker["detail"].startswith("no worker is running")
        assert "stockpot worker" in worker["fix"]
        assert httpx.get(f"http://127.0.0.1:{server.port}/healthz").status_code == 200
    finally:
        server.stop()
    old = f"sqlite:///{tmp_path / 'old.db'}"
    schema.upgrade(old, "0009")
    engine = make_engine(old)
    server = BackgroundServer(OpsRoutes(None, make_session_factory(engine), Settings()), 0)
    try:
        answer = httpx.get(f"http://127.0.0.1:{server.port}/readyz").json()
        (check,) = [c for c in answer["checks"] if c["check"] == "schema"]
        assert "is at revision 0009" in check["detail"] and "db upgrade" in check["fix"]
    finally:
        server.stop()
        engine.dispose()


def test_a_web_process_is_ready_without_workers_and_says_they_are_down(database):
    """A load balancer checks the web processes' /readyz: were it to need a worker, every web
    process would be taken out while the workers are down, and Slack's requests would get no
    ack at all. It acks and queues; the answers wait for a worker. The workers' state is in
    the answer all the same (and a worker's own /readyz still needs it)."""
    with unit_of_work(database.factory) as session:
        session.execute(delete(WorkerHeartbeat))

    def slack_app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"acked"]

    server = BackgroundServer(OpsRoutes(slack_app, database.factory, Settings()), 0)
    try:
        answer = httpx.get(f"http://127.0.0.1:{server.port}/readyz")
        assert answer.status_code == 200, answer.text
        assert answer.json()["ready"] is True
        worker = next(c for c in answer.json()["checks"] if c["check"] == "worker")
        assert (worker["ok"], worker["needed"]) == (False, False)
        assert worker["detail"].startswith("no worker is running")
    finally:
        server.stop()


def test_a_worker_that_stopped_cleanly_is_not_said_never_to_have_run(database):
    """A worker removes its heartbeat when it stops cleanly, so after a deploy's stop /readyz
    (and `stockpot check`) said "no worker has ever beaten": a host reads that as a worker that
    never reached this database (a wrong DATABASE_URL) rather than one that is not running."""
    with unit_of_work(database.factory) as session:
        session.execute(delete(WorkerHeartbeat))
    with HeartbeatThread(database.factory, "w1", 3600, threads=1, running=lambda: 0):
        (beating,) = [
            c
            for c in readiness(database.factory, timedelta(minutes=1), workers_needed=True)
            if c.name == "worker"
        ]
        assert beating.ok
    (stopped,) = [
        c
        for c in readiness(database.factory, timedelta(minutes=1), workers_needed=True)
        if c.name == "worker"
    ]
    assert not stopped.ok and "ever" not in stopped.detail
    assert stopped.detail.startswith("no worker is running")


def test_metrics_count_slack_calls_jobs_pos_requests_and_retries(bot):
    before = samples(bot)
    bot.sides.faults.add(
        Fault.status(429, {"error": "slow down"}, {"Retry-After": "0"}), path="/stores", times=1
    )
    connect_sides(bot)
    posted(bot, "connected SIDES")
    bot.send.command("/pos", "sync", user=ADMIN)
    synced(bot)
    bot.drain()
    after = samples(bot)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("stockpot_slack_api_calls_total", method="chat.postMessage", outcome="ok") >= 2
    assert grew("stockpot_jobs_finished_total", kind="sync", outcome="succeeded") == 1
    assert grew("stockpot_job_duration_seconds_count", kind="sync", outcome="succeeded") == 1
    assert grew("stockpot_pos_requests_total", provider="sides", status="429") == 1
    assert grew("stockpot_pos_retries_total", provider="sides", reason="429") == 1
    assert grew("stockpot_pos_requests_total", provider="sides", status="200") >= 2
    assert grew("stockpot_http_requests_total", route="slack_events", status="200") >= 2
    assert value(after, "stockpot_database_up") == 1
    assert value(after, "stockpot_jobs", kind="sync", state="queued") == 0
    assert value(after, "stockpot_oldest_queued_job_age_seconds") == 0
    assert value(after, "stockpot_worker_heartbeat_age_seconds") >= 0
    names = {labels for (name, labels) in after if name.startswith("stockpot_")}
    used = {key for labels in names for key, _ in labels}
    assert used <= BOUNDED_LABELS, "no id, company or location is a label"


def test_readyz_names_no_database_url_nor_driver_error(database, caplog):
    """/readyz answers whoever reaches the port Slack reaches: it said `postgresql+psycopg://
    postgres@127.0.0.1:5432/<name> answers`, and the driver's first error line when the server
    was down (its host and port). Now "the database"; the error goes to the process's log."""
    url = database.factory.kw["bind"].url
    server = BackgroundServer(OpsRoutes(None, database.factory, Settings()), 0)
    try:
        answer = httpx.get(f"http://127.0.0.1:{server.port}/readyz").text
    finally:
        server.stop()
    assert "the database answers" in answer
    assert url.drivername not in answer and "://" not in answer
    assert str(url.database).rsplit("/", 1)[-1] not in answer
    if url.host:
        assert f"@{url.host}" not in answer and f":{url.port}" not in answer
    unreachable = make_engine("postgresql+psycopg://someone@127.0.0.1:1/secret_db")
    server = BackgroundServer(OpsRoutes(None, make_session_factory(unreachable), Settings()), 0)
    try:
        refused = httpx.get(f"http://127.0.0.1:{server.port}/readyz")
    finally:
        server.stop()
        unreachable.dispose()
    assert refused.status_code == 503
    (check,) = refused.json()["checks"]
    assert check["detail"] == "the database cannot be reached: its error is in this process's log"
    assert "secret_db" not in refused.text and "someone" not in refused.text
    assert any("127.0.0.1" in record.getMessage() for record in caplog.records)


def test_a_test_server_whose_wake_up_pipe_was_closed_still_stops():
    """CI failed twice under load with EBADF from waitress's trigger at ``stop()`` (its pipe's
    descriptor already closed): the server is stopped all the same, its thread ended."""
    server = BackgroundServer(OpsRoutes(None, None, Settings()), 0)  # type: ignore[arg-type]
    assert httpx.get(f"http://127.0.0.1:{server.port}/healthz").text == "ok"
    number = server._server.trigger.trigger
    # Another write end stays open: the loop does not see its pipe end and close the number
    # again (by then maybe a file of another test's thread).
    writer = os.dup(number)
    os.close(number)
    try:
        server.stop()
    finally:
        os.close(writer)
    assert not server._thread.is_alive()


def test_a_test_server_whose_wake_up_pipe_was_closed_closes_no_other_descriptor():
    """The closed pipe end's number is free, and the process may have given it to another
    file (here: made so with ``dup2``). Stopping closed the trigger's descriptors by number,
    that one too: someone else's file was closed under them, the very fault stopped here."""
    server = BackgroundServer(OpsRoutes(None, None, Settings()), 0)  # type: ignore[arg-type]
    assert httpx.get(f"http://127.0.0.1:{server.port}/healthz").text == "ok"
    number = server._server.trigger.trigger
    # A second write end: the loop does not see its pipe end (and close it, by number, too).
    writer = os.dup(number)
    os.close(number)
    other = os.open(os.devnull, os.O_RDONLY)  # the trigger's write to it fails as before
    try:
        os.dup2(other, number)
        server.stop()
        assert not server._thread.is_alive()
        assert os.fstat(number), "another file's descriptor stays open"
    finally:
        for descriptor in {writer, other, number}:
            with contextlib.suppress(OSError):
                os.close(descriptor)


class _Broken:
    """A channel whose descriptor is gone: asking about it fails as select() would."""

    def readable(self) -> bool:
        raise OSError(errno.EBADF, "Bad file descriptor")


def test_a_test_server_whose_loop_dies_says_so(caplog):
    """Its loop ended on such an error without a word (the server just stopped answering),
    which left the closed descriptor's story untold; a normal stop says nothing."""
    quiet = BackgroundServer(OpsRoutes(None, None, Settings()), 0)  # type: ignore[arg-type]
    quiet.stop()
    assert not caplog.records
    server = BackgroundServer(OpsRoutes(None, None, Settings()), 0)  # type: ignore[arg-type]
    server._server._map[-1] = _Broken()
    server._thread.join(30)
    assert not server._thread.is_alive()
    (record,) = caplog.records
    assert record.getMessage() == "the test server's loop ended on an error"
    assert record.exc_info is not None and record.exc_info[0] is OSError
    del server._server._map[-1]
    server.stop()
    wasyncore.close_all(server._server._map)  # its loop is gone: closed here, once


def test_a_test_server_answers_the_request_in_flight_before_it_stops(caplog):
    """``stop()`` closed every channel while waitress's task threads still ran: a handler
    that answered then wrote to a closed socket (EBADF, ~11 in 300 rounds under load), and
    its client got no answer. Held here in its handler until the stop is under way (the
    task dispatcher told to end its threads), then let go: answered in full, nothing logged."""
    entered, release = threading.Event(), threading.Event()

    def held(environ, start_response):
        entered.set()
        release.wait(30)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "4")])
        return [b"done"]

    server = BackgroundServer(held, 0)
    answers: list[httpx.Response | Exception] = []

    def ask() -> None:
        try:
            answers.append(httpx.get(f"http://127.0.0.1:{server.port}/", timeout=30))
        except httpx.HTTPError as error:
            answers.append(error)

    client = threading.Thread(target=ask)
    client.start()
    assert entered.wait(30)
    stopping = threading.Thread(target=server.stop)
    stopping.start()
    dispatcher = server._server.task_dispatcher
    with dispatcher.lock:
        assert dispatcher.queue_cv.wait_for(lambda: dispatcher.stop_count > 0, timeout=30)
    release.set()
    stopping.join(30)
    client.join(30)
    (answer,) = answers
    assert isinstance(answer, httpx.Response) and answer.text == "done", answer
    assert not server._thread.is_alive()
    assert not caplog.records, [record.getMessage() for record in caplog.records]
