"""LOG_FORMAT=json: one object per line, the context of the request or job in hand, and
secrets redacted exactly as in text logs."""

from __future__ import annotations

import io
import json
import logging
import threading

import pytest

from stockpot.core import log_context, redaction
from stockpot.core.db import unit_of_work
from stockpot.core.jobs.queue import JobSpec, enqueue
from stockpot.core.jobs.worker import FunctionHandler, Worker
from stockpot.core.log_format import JsonFormatter
from stockpot.core.models import Company, JobKind
from stockpot.core.settings import Settings, configure_logging


@pytest.fixture
def lines():
    redaction.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("stockpot.test.json")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False

    def read() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield logger, read
    logger.removeHandler(handler)


def test_each_line_is_one_object_with_the_context_and_secrets_redacted(lines):
    logger, read = lines
    with log_context.bound(request_id="r-1", company_id=7, location_id=None):
        logger.info("token %s refused", "xoxb-123-456-abcdef")
        try:
            raise RuntimeError("password=hunter2 went missing")
        except RuntimeError:
            logger.exception("failed with Bearer abcdefghijkl")
    logger.warning("no context")
    first, second, third = read()
    assert first["level"] == "INFO" and first["logger"] == "stockpot.test.json"
    assert first["message"] == "token xox…[redacted] refused"
    assert (first["request_id"], first["company_id"]) == ("r-1", 7)
    assert "location_id" not in first, "unknown context is left out, not null"
    assert "hunter2" not in json.dumps(second) and "abcdefghijkl" not in json.dumps(second)
    assert "RuntimeError" in second["exception"]
    assert set(third) == {"time", "level", "logger", "message"}


def test_a_worker_logs_with_its_job_company_and_location(database, lines):
    logger, read = lines
    with unit_of_work(database.factory) as session:
        company = Company(name="Logged")
        session.add(company)
        session.flush()
        job_id = enqueue(session, JobSpec(kind=JobKind.SYNC, company_id=company.id)).job_id

    def run(context):
        logger.info("working")
        return {}

    worker = Worker(database.factory, Settings(), {JobKind.SYNC: FunctionHandler(run)})
    assert worker.run_one()
    (line,) = read()
    assert line["job_id"] == job_id and line["job_kind"] == "sync"
    assert line["company_id"] == company.id
    assert log_context.current() == {}, "the context ends with the job"


def test_log_format_json_configures_the_root_handler(monkeypatch):
    root = logging.getLogger()
    before = list(root.handlers)
    for handler in before:
        root.removeHandler(handler)
    try:
        configure_logging(Settings.from_variables(LOG_FORMAT="json"))
        assert any(isinstance(h.formatter, JsonFormatter) for h in root.handlers)
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in before:
            root.addHandler(handler)


def test_contexts_do_not_leak_between_threads():
    seen = []
    with log_context.bound(request_id="main"):
        thread = threading.Thread(target=lambda: seen.append(log_context.current()))
        thread.start()
        thread.join()
    assert seen == [{}]
