"""Previews of shared files within bounds, over real HTTP: a file Slack reports as too large
is refused before it is downloaded, a file of too many distinct codes is refused with what to
check, and reading a file is the worker's job, not the web process's."""

from __future__ import annotations

from sqlalchemy import select

from stockpot.core.csv_import.scan import MAX_TOTALS
from stockpot.core.models import Job, JobKind, JobState
from tests.bot.test_csv_upload import setup
from tests.bot.test_slack_app import posted, texts

HEADER = b"Datum;Artikelnummer;Menge\n"


def _share(bot, file_id: str, name: str, content: bytes):
    bot.slack.add_file(file_id, name, content)
    bot.send.event(
        {"type": "file_shared", "file_id": file_id, "channel_id": "C0001", "user_id": "UADMIN"},
        event_id=f"Ev{file_id}",
    )
    answer = posted(bot, f"CSV {name}")  # the event's listener runs after Slack's answer
    bot.drain()
    return answer


def test_a_file_over_the_size_limit_is_refused_before_it_is_downloaded(bot):
    setup(bot)
    big = HEADER + b"27.11.2026;101;1\n" * (bot.settings.slack.file_max_bytes // 17 + 1)
    shown = texts(_share(bot, "F1", "big.csv", big))
    assert "larger than 20 MB, the most Stockpot reads from Slack; split it by date" in shown
    assert not [r for r in bot.slack.requests if r.path.startswith("/files/")], "not downloaded"


def test_a_file_of_too_many_distinct_codes_is_refused_with_what_to_check(bot):
    setup(bot)
    rows = b"".join(b"27.11.2026;c%d;1\n" % n for n in range(MAX_TOTALS + 1))
    shown = texts(_share(bot, "F2", "codes.csv", HEADER + rows))
    assert f"more than {MAX_TOTALS:,} different combinations of date, location and POS code" in (
        shown
    )
    assert "check that source_column is the article code, or split the file by date" in shown


def test_previews_are_worker_jobs(bot):
    setup(bot)
    _share(bot, "F3", "ok.csv", HEADER + b"27.11.2026;101;2\n")
    with bot.database.session() as session:
        jobs = session.execute(select(Job.kind, Job.state)).all()
    assert (JobKind.CSV_PREVIEW, JobState.SUCCEEDED) in jobs
