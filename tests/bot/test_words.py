"""Words people can use: help that shows in real Slack, closest matches for typos, and periods
that say what they were understood as."""

from __future__ import annotations

from tests.bot.conftest import ADMIN, VIEWER
from tests.bot.test_slack_app import reply, texts


def test_help_is_escaped_as_slack_requires_and_has_an_example_per_usage(bot):
    bot.send.command("/pos", "help", user=VIEWER)
    shown = texts(reply(bot, "/pos — what it can do"))
    assert "`/pos setup &lt;company&gt;`" in shown
    assert "e.g. `/pos setup Pizzeria Beispiel`" in shown
    assert "<company>" not in shown and "<location>" not in shown
    bot.send.command("/transfer", "help", user=VIEWER)
    shown = texts(reply(bot, "/transfer — what it can do"))
    assert "`/transfer &lt;date|yesterday&gt; [location] [--now]`" in shown
    assert "`/transfer log &lt;location&gt; &lt;date&gt;`" in shown
    bot.send.command("/ledger", "help", user=VIEWER)
    assert "&lt;period&gt;" in texts(reply(bot, "/ledger — what it can do"))


def test_unknown_subcommands_answer_with_help_and_the_closest_one(bot):
    bot.send.command("/pos", "sycn", user=VIEWER)
    shown = texts(reply(bot, "`/pos sycn` is not a command"))
    assert "Did you mean `/pos sync`?" in shown and "/pos — what it can do" in shown
    bot.send.command("/ledger", "balanses", user=VIEWER)
    shown = texts(reply(bot, "'balanses' is not a period"))
    assert "Did you mean `/ledger balances`?" in shown


def test_unknown_names_get_the_closest_instead_of_an_empty_answer(bot):
    bot.send.command("/ledger", "2026-11-27 kitchn", user=VIEWER)
    assert "no storage unit 'kitchn'; did you mean Kitchen?" in texts(reply(bot, "kitchn"))
    bot.send.command("/ledger", "balances Kichen", user=VIEWER)
    assert "did you mean Kitchen?" in texts(reply(bot, "Kichen"))
    bot.send.command("/transfer", "pause Main rom", user=ADMIN)
    assert "did you mean Main room?" in texts(reply(bot, "Main rom"))


def test_ledger_ranges_say_what_was_understood(bot):
    bot.send.command("/ledger", "2026-11-26 to 2026-12-02 Kitchen", user=VIEWER)
    shown = texts(reply(bot, "Thu 2026-11-26 to Wed 2026-12-02 (7 days)"))
    assert "Kitchen" in shown
    bot.send.command("/ledger", "last week", user=VIEWER)
    assert "(7 days)" in texts(reply(bot, "last week: Mon"))
    bot.send.command("/ledger", "2026-11-26..2026-11-27", user=VIEWER)
    reply(bot, "Thu 2026-11-26 to Fri 2026-11-27 (2 days)")
