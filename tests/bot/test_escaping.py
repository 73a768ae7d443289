"""Names people typed (storage units, ingredients, recipes, locations, POS items) are shown
in mrkdwn escaped by the one escaper (``bot.blocks.common.escape``): ``<!channel>`` never
pings a channel, ``<https://evil|x>`` never becomes a link, ``&amp;`` shows as typed. Every
command, button message, modal, App Home and job message that shows such names is rendered
over HTTP and each mrkdwn text Slack would read is checked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from stockpot.bot.ids import ActionId
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.jobs import specs
from stockpot.core.jobs.runtime import JobRuntime
from stockpot.core.mapping import import_mappings
from stockpot.core.models import Company, ExternalLocation, PosItem
from stockpot.core.transfer.lines import RawInput, SaleLine
from stockpot.core.transfer.runner import run_transfer
from tests.bot.conftest import ADMIN

CELLAR, TERRACE, SALT, OIL, STEW = (
    "<!channel> Cellar",
    "<!here> Terrace",
    "<https://evil|x> Salt",
    "Fish &amp; Chips oil",
    "<!channel> Stew",
)
BISTRO = "<!everyone> Bistro &amp; Bar"
HOSTILE = f"""
company: Trattoria Esempio
storage_units:
  - {{name: "{CELLAR}", address: "<https://evil|x> street"}}
ingredients:
  - {{name: "{SALT}", base_unit: g}}
  - {{name: "{OIL}", base_unit: l}}
recipes:
  - name: "{STEW}"
    default_issue_storage: "{CELLAR}"
    lines:
      - {{ingredient: "{SALT}", quantity: 5, unit: g}}
      - {{ingredient: "{OIL}", quantity: 1, unit: cl}}
csv_connections:
  - name: Till export
    locations:
      - {{name: "{TERRACE}", storage_unit: "{CELLAR}", timezone: Europe/Rome}}
"""
MAPPINGS = f"""
company: Trattoria Esempio
connection: csv:Till export
mappings:
  - {{pos_code: "H1", pos_name: "<!channel> Soup", recipe: "{STEW}", quantity: 1}}
  - {{pos_code: "H2", pos_name: "&amp; Fries", ingredient: "{OIL}", quantity: 0.1}}
"""
RAW = (
    "<!channel>",
    "<!here>",
    "<https://evil|x>",
    "Fish &amp; Chips",
    "&amp; Fries",
    "<!channel> Soup",
    "<!everyone>",
    "Bistro &amp; Bar",
)
"""What must never reach a mrkdwn text unescaped."""


def mrkdwn_texts(call: Any) -> Iterator[str]:
    """Every text of a Web API call or response_url answer that Slack reads as mrkdwn."""

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                yield node["text"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    args = call.args
    if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url"):
        if isinstance(args.get("text"), str) and args.get("mrkdwn", True):
            yield args["text"]
        yield from walk(args.get("blocks") or [])
    elif call.method.startswith("views."):
        yield from walk(args.get("view") or {})
    elif call.method == "files.completeUploadExternal" and args.get("initial_comment"):
        yield str(args["initial_comment"])


def item_id(bot, name: str) -> int:
    with bot.database.session() as session:
        return session.scalar(select(PosItem.id).where(PosItem.name == name))


def test_hostile_names_are_escaped_by_every_builder_that_shows_them(bot):
    import_catalog(bot.database.factory, HOSTILE, source="hostile.yaml")
    import_mappings(bot.database.factory, MAPPINGS, source="hostile-map.yaml")
    day = date(2026, 11, 27)
    with bot.database.session() as session:
        terrace = session.scalar(
            select(ExternalLocation.id).where(ExternalLocation.name == TERRACE)
        )
        company = session.scalar(select(Company.id).where(Company.name == "Trattoria Esempio"))
    lines = [
        SaleLine("S1", "1", "H1", "<!channel> Soup", Decimal(3)),
        SaleLine("S1", "2", "H2", "&amp; Fries", Decimal(2)),
        SaleLine("S1", "3", "H3", "<https://evil|x> Special", Decimal(1)),
    ]
    run_transfer(bot.database.factory, terrace, day, lines, RawInput("t", "[]"))
    bot.send.command("/pos", "bind", user=ADMIN)
    bot.send.command("/pos", "report here 07:30 Europe/Rome", user=ADMIN)
    for command, text in [
        ("/pos", "storage"),
        ("/pos", "storage add <!here> Pantry | <https://evil|x>"),
        ("/pos", "storage archive <!here> Pantry"),
        ("/pos", "locations"),
        ("/pos", "unmapped"),
        ("/pos", "mappings"),
        ("/pos", "mappings soup"),
        ("/pos", f"recipe {STEW}"),
        ("/pos", f"doctor {TERRACE}"),
        ("/transfer", "status"),
        ("/transfer", f"log {TERRACE} 2026-11-27"),
        ("/transfer", f"2026-11-27 {TERRACE}"),
        ("/transfer", f"pause {TERRACE}"),
        ("/ledger", "2026-11-27"),
        ("/ledger", f"2026-11-27 {CELLAR}"),
        ("/ledger", "balances"),
        ("/ledger", f"balances {CELLAR}"),
        ("/ledger", f"why {SALT} 2026-11-27"),
        ("/stock", f"count {CELLAR}"),
        ("/stock", f"receive {CELLAR} {SALT}=10g"),
        ("/stock", f"waste {CELLAR} {SALT}=1g"),
        ("/stock", f"move {CELLAR} to Kitchen {SALT}=1g"),
        ("/stock", f"template {CELLAR}"),
        ("/ledger", f"variance {CELLAR} last"),
    ]:
        bot.send.command(command, text, user=ADMIN)
        bot.drain()
    bot.send.event({"type": "app_home_opened", "user": ADMIN, "tab": "home"})
    JobRuntime(bot.database.factory).enqueue(specs.report(company, day))
    bot.drain()
    # The buttons of the unmapped list: Map opens the modal, Ignore answers with Reprocess.
    listed = bot.slack.wait_for("response_url", where=lambda c: "Unmapped items" in str(c.args))
    special = item_id(bot, "<https://evil|x> Special")
    bot.send.click(listed[-1].ts, ActionId.MAP_OPEN, user=ADMIN, value=str(special))
    bot.send.click(listed[-1].ts, ActionId.ITEM_IGNORE, user=ADMIN, value=str(special))
    bot.drain()
    bot.send.command("/pos", f"storage rename {CELLAR} | {CELLAR} 2", user=ADMIN)
    # A company named by hand, in a workspace of its own.
    bot.slack.add_user("UBOSS", "boss", is_admin=True)
    for command, text in [
        ("/pos", f"setup {BISTRO}"),
        ("/pos", "storage add Shelf | Via Roma"),
        ("/pos", "storage"),
        ("/pos", "locations"),
        ("/pos", "mappings"),
        ("/pos", "unmapped"),
        ("/pos", "members"),
        ("/pos", "report"),
        ("/pos", "bind"),
        ("/pos", "report now"),
        ("/transfer", "status"),
        ("/ledger", "balances"),
        ("/ledger", "yesterday"),
    ]:
        bot.send.command(command, text, user="UBOSS", team="T0009")
        bot.drain()
    bot.send.event(
        {"type": "app_home_opened", "user": "UBOSS", "tab": "home"}, team="T0009", event_id="Ev9"
    )
    bot.drain()
    shown = [(call.method, text) for call in bot.slack.calls for text in mrkdwn_texts(call)]
    everything = json.dumps(shown, ensure_ascii=False)
    for name in (CELLAR, TERRACE, SALT, OIL, STEW, "<https://evil|x> Special", BISTRO):
        escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert escaped in everything, f"{name!r} was never shown (the test shows nothing)"
    unescaped = [(method, text) for method, text in shown if any(raw in text for raw in RAW)]
    assert not unescaped, "\n".join(f"{m}: {t[:300]!r}" for m, t in unescaped)
