"""Each job kind is queued with a typed payload that its handler reads back unchanged."""

from __future__ import annotations

from datetime import date

from stockpot.core.jobs import specs
from stockpot.core.jobs.specs import PAYLOADS, Notify, payload_of
from stockpot.core.models import JobKind, RunKind

NOTIFY = Notify(team_id="T1", channel_id="C1", user_id="U1")
DAY = date(2026, 11, 27)


def test_every_job_kind_has_a_payload_model():
    assert set(PAYLOADS) == set(JobKind)


def test_what_is_queued_reads_back_as_it_was_written():
    queued = [
        specs.transfer(1, 2, DAY, run_kind=RunKind.AUTOMATIC, triggered_by="schedule"),
        specs.migration(1, 2, 30, triggered_by="slack:U1", notify=NOTIFY),
        specs.sync(1, 3, triggered_by="cli"),
        specs.report(1, DAY, notify=NOTIFY),
        specs.variance(1, 4, DAY, notify=NOTIFY),
        specs.csv_import(
            1,
            3,
            "F1",
            default_date=DAY,
            valid_only=True,
            force=False,
            thread_ts="1.2",
            triggered_by="slack:U1",
            notify=NOTIFY,
        ),
        specs.csv_preview(
            1,
            "F1",
            "till.csv",
            thread_ts=None,
            connection_id=None,
            default_date=None,
            notify=NOTIFY,
        ),
        specs.csv_undo(1, 9, thread_ts="1.2", triggered_by="slack:U1", notify=NOTIFY),
        specs.reprocess(
            1, [(2, DAY), (3, DAY)], what="Pizza Diavola", triggered_by="slack:U1", notify=NOTIFY
        ),
        specs.missed_days(1, 2, (DAY, DAY), specs.MissedDaysPayload(first=DAY, last=DAY, days=1)),
        specs.answer(1, {"command": "/pos", "text": "help", "token": "legacy"}),
    ]
    assert {spec.kind for spec in queued} == set(JobKind)
    for spec in queued:
        model = PAYLOADS[spec.kind]
        read = payload_of(model, spec.payload)
        assert read.dump() == spec.payload
    transfer = payload_of(specs.TransferPayload, queued[0].payload)
    assert transfer.run_kind is RunKind.AUTOMATIC and transfer.notify is None
    assert payload_of(specs.CsvImportPayload, queued[5].payload).default_date == DAY
    assert specs.notify_of(queued[1].payload) == NOTIFY
    answer = payload_of(specs.AnswerPayload, queued[-1].payload)
    assert answer.body == {"command": "/pos", "text": "help"}  # Slack's token is not stored


def test_a_payload_queued_before_a_field_existed_still_reads():
    old = {"run_kind": "manual", "triggered_by": "slack:U1", "notify": None}
    assert payload_of(specs.TransferPayload, old).dry_run is False
