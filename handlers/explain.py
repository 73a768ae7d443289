"""Why a number is what it is: ``/pos recipe <name>``, ``/ledger why <ingredient> <date>
[storage]`` and the Why? picker under ``/ledger``'s lines. Tracing recomputes runs, so it
runs off Slack's listener threads."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import TypeAdapter, ValidationError
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from stockpot.bot.amounts import human
from stockpot.bot.blocks.common import escape, message
from stockpot.bot.blocks.explain import recipe_blocks, why_blocks, why_needs_file
from stockpot.bot.ids import ActionId
from stockpot.bot.metadata import WhyValue
from stockpot.core.csv_export import csv_text
from stockpot.core.errors import StockpotError, ValidationFailed
from stockpot.core.periods import Period, PeriodError, parse_period
from stockpot.core.recipes import recipe_view
from stockpot.core.why import WHY_CSV_HEADER, Why, explain, why_csv_rows
from stockpot.handlers.context import actor, channel_of, services
from stockpot.handlers.slash import Invocation, UsageError

WHY_USAGE = (
    "`/ledger why <ingredient> <date or from..to> [storage unit]`, "
    "e.g. `/ledger why Flour yesterday Kitchen`"
)


def pos_recipe(inv: Invocation) -> None:
    name = " ".join(inv.args).strip()
    if not name:
        raise UsageError("which recipe? `/pos recipe Margherita`")
    who = inv.actor()
    with inv.services.factory() as session:
        view = recipe_view(session, who.company_id, name)
    inv.reply(f"Recipe {escape(view.name)}", recipe_blocks(view))


def _period_at(words: list[str], index: int, today: date) -> tuple[Period, list[str]] | None:
    try:
        return parse_period(words[index:], today)
    except PeriodError:
        return None


def ledger_why(inv: Invocation) -> None:
    """``/ledger why Flour 2026-11-27 Kitchen``: the ingredient is every word before the
    date, the storage unit every word after it."""
    who = inv.actor()
    today = inv.today(who)
    found = next(
        (
            (index, parsed)
            for index in range(1, len(inv.args))
            if (parsed := _period_at(inv.args, index, today)) is not None
        ),
        None,
    )
    if found is None:
        raise UsageError(f"which ingredient, which days? {WHY_USAGE}")
    index, (period, rest) = found
    ingredient = " ".join(inv.args[:index]).strip()
    storage = " ".join(rest).strip() or None
    first, last = period.first, period.last

    def work() -> None:
        try:
            with inv.services.factory() as session:
                why = explain(session, who.company_id, ingredient, first, last, storage, human)
        except StockpotError as error:
            inv.reply(str(error))
            return
        _answer(inv.client, inv.channel_id, why, lambda m: inv.reply(m["text"], m["blocks"]))

    inv.services.work.submit(work)


def _answer(client: WebClient, channel: str, why: Why, say: Any) -> None:
    say(message(f"Why {escape(why.ingredient)}", why_blocks(why)))
    if why_needs_file(why):
        client.files_upload_v2(
            channel=channel,
            content=csv_text(WHY_CSV_HEADER, why_csv_rows(why)),
            filename=f"why-{why.ingredient}-{why.first}-{why.last}.csv",
            title=f"Sales lines behind {why.ingredient}, "
            + (str(why.first) if why.first == why.last else f"{why.first} to {why.last}"),
        )


_WHY_VALUE = TypeAdapter(WhyValue)


def why_picked(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext, client: WebClient
) -> None:
    """The Why? picker of ``/ledger``: the chosen line, explained below the message."""
    ack()
    raw = str((body["actions"][0].get("selected_option") or {}).get("value") or "")
    try:
        ingredient, storage, first, last = _WHY_VALUE.validate_json(raw)
    except ValidationError:
        raise ValidationFailed("that choice is not one Stockpot made; nothing was done") from None
    if last < first:
        raise ValidationFailed("that choice is not one Stockpot made; nothing was done")
    channel = channel_of(body)
    who = actor(context, channel)
    svc = services(context)

    def work() -> None:
        with svc.factory() as session:
            why = explain(session, who.company_id, ingredient, first, last, storage, human)
        _answer(
            client,
            channel,
            why,
            lambda m: respond(**m, response_type="ephemeral", replace_original=False),
        )

    svc.work.submit(work)


def register(app: App) -> None:
    app.action(ActionId.LEDGER_WHY)(why_picked)
