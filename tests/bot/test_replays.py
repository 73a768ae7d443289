"""A signed request sent again within Slack's five minutes (the same bytes, the same valid
signature) changes nothing: every click, command, form and event is acted on once per
delivery, over real HTTP."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from stockpot.bot.ids import ActionId
from stockpot.core.models import CsvImport, Job, Member, SlackDelivery
from tests.bot.conftest import ADMIN, STRANGER
from tests.bot.test_csv_upload import movements, setup, share, updates, value_of
from tests.bot.test_slack_app import connect_sides, posted, reply, texts
from tests.core.csv_import.files import GERMAN as GERMAN_FILE


def count(bot, model) -> int:
    with bot.database.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def slack_calls(bot) -> int:
    return len([c for c in bot.slack.calls if c.method != "auth.test"])


def replayed(bot) -> None:
    """Send the last request again; it is answered 200 (Slack must not retry it) and does
    nothing: no job, no Slack call, no row."""
    jobs, calls, imports = count(bot, Job), slack_calls(bot), count(bot, CsvImport)
    answer = bot.send.replay()
    assert answer.status_code == 200 and answer.text == ""
    bot.drain()
    assert (count(bot, Job), slack_calls(bot), count(bot, CsvImport)) == (jobs, calls, imports)


def test_a_replayed_import_again_imports_nothing(bot):
    setup(bot)
    preview = share(bot, "F1", "kasse.csv", GERMAN_FILE)
    bot.send.click(preview.ts, ActionId.CSV_IMPORT, user=ADMIN)
    bot.drain()
    again = share(bot, "F2", "kasse-copy.csv", GERMAN_FILE)
    assert json.loads(value_of(again, ActionId.CSV_IMPORT))["force"] is True
    bot.send.click(again.ts, ActionId.CSV_IMPORT, user=ADMIN)
    bot.drain()
    assert updates(bot, again.ts, "Imported *kasse-copy.csv*")
    posted_once = movements(bot)
    assert count(bot, CsvImport) == 2

    replayed(bot)
    assert count(bot, CsvImport) == 2 and movements(bot) == posted_once

    bot.send.click(again.ts, ActionId.CSV_UNDO, user=ADMIN)
    bot.drain()
    (undone,) = updates(bot, again.ts, "Import of kasse-copy.csv undone")
    undone_once = movements(bot)
    replayed(bot)
    assert movements(bot) == undone_once
    assert updates(bot, again.ts, "Import of kasse-copy.csv undone") == [undone], (
        "the message is updated once"
    )


def test_a_replayed_event_previews_nothing(bot):
    setup(bot)
    share(bot, "F3", "kasse.csv", GERMAN_FILE)
    replayed(bot)


def test_a_replayed_command_changes_and_answers_nothing(bot):
    bot.send.command("/pos", f"members add <@{STRANGER}|s> admin", user=ADMIN)
    reply(bot, "is now admin of Trattoria Esempio")
    bot.send.command("/pos", f"members remove <@{STRANGER}>", user=ADMIN)
    reply(bot, "no longer")
    replay_answers = len(bot.slack.calls)
    replayed(bot)
    assert len(bot.slack.calls) == replay_answers
    with bot.database.session() as session:
        assert session.scalar(select(Member).where(Member.user_id == STRANGER)) is None


def test_a_replayed_form_submission_connects_nothing_twice(bot):
    assert connect_sides(bot).status_code == 200
    posted(bot, "connected SIDES for Trattoria Esempio")
    replayed(bot)
    announced = [c for c in bot.slack.calls if "connected SIDES" in texts(c)]
    assert len(announced) == 1


def test_a_form_sent_again_after_a_refusal_is_a_new_delivery(bot):
    """Each submission has its own trigger: fixing a refused form is not a replay."""
    assert connect_sides(bot, password="wrong").json()["response_action"] == "errors"
    assert connect_sides(bot).status_code == 200
    posted(bot, "connected SIDES for Trattoria Esempio")
    with bot.database.session() as session:
        submissions = session.scalar(
            select(func.count())
            .select_from(SlackDelivery)
            .where(SlackDelivery.key.startswith("view_submission:"))
        )
    assert submissions == 2
