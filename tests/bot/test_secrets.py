"""No secret in plain text: after a full scenario, every table and every log line is searched
for the passwords, tokens and keys that went through the system."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import quote, quote_plus, urlencode

import httpx
from sqlalchemy import text

from stockpot.bot.ids import ActionId, BlockId, CallbackId
from stockpot.core.models import Base
from stockpot.sandbox.lightspeed import DEFAULT_CLIENT_SECRET
from stockpot.sandbox.sides import DEFAULT_PASSWORD
from tests.bot.conftest import ADMIN, CLIENT_SECRET, SECRET
from tests.bot.test_install import install
from tests.bot.test_slack_app import _synced, posted, reply
from tests.pos import consented


def everything_stored(database) -> str:
    """Every row of every table, as text."""
    dumped = []
    with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(text(f'SELECT * FROM "{table.name}"')).all()
            dumped.append(f"{table.name}: {rows!r}")
    return "\n".join(dumped)


def assert_nowhere(secrets: set[str], *haystacks: str) -> None:
    assert secrets, "the scenario produced secrets to look for"
    for secret in secrets:
        for haystack in haystacks:
            assert secret not in haystack


def test_pos_credentials_and_tokens_are_never_stored_or_logged_in_plain_text(bot, caplog):
    caplog.set_level(logging.DEBUG)
    _synced(bot)
    bot.send.command("/pos", "connect lightspeed", user=ADMIN)
    offer = reply(bot, "Connect Lightspeed")
    url = next(block["accessory"]["url"] for block in offer.args["blocks"] if "accessory" in block)
    with httpx.Client() as browser:
        back = consented(browser, url)
        binding = browser.cookies["stockpot-lightspeed"]
        assert browser.get(back).status_code == 200
    posted(bot, "Lightspeed is connected")
    bot.send.command("/pos", "sync", user=ADMIN)
    bot.drain()
    bot.send.command("/transfer", "2025-03-14 Pizzeria Beispiel Teltow --now", user=ADMIN)
    bot.drain()
    lightspeed = bot.lightspeed
    secrets = {
        DEFAULT_PASSWORD,
        DEFAULT_CLIENT_SECRET,
        SECRET,
        bot.settings.secret_key.get_secret_value(),
        *lightspeed._access,
        *lightspeed._refresh,
    }
    calls = "\n".join(repr(call.args) for call in bot.slack.calls)
    assert_nowhere(secrets, everything_stored(bot.database), caplog.text, calls)
    assert_nowhere({binding}, everything_stored(bot.database))  # only its hash is kept


def test_installed_workspace_tokens_are_never_stored_or_logged_in_plain_text(
    installable_bot, caplog
):
    caplog.set_level(logging.DEBUG)
    assert install(installable_bot).status_code == 200
    secrets = {"xoxb-installed-T0003", CLIENT_SECRET, SECRET}
    assert_nowhere(secrets, everything_stored(installable_bot.database), caplog.text)


def test_a_rejected_sign_in_leaves_no_password_anywhere(bot, caplog):
    """Slack's request refused (clock skew, a rotated signing secret, a late delivery): the
    SIDES sign-in it carried reaches no log, no table and no Slack call."""
    caplog.set_level(logging.DEBUG)
    password = "p@ss w0rd&more"
    values = {
        BlockId.SIDES_PASSWORD: {
            ActionId.SIDES_PASSWORD: {"type": "plain_text_input", "value": password}
        },
        BlockId.SIDES_USERNAME: {
            ActionId.SIDES_USERNAME: {"type": "plain_text_input", "value": "alice"}
        },
    }
    payload = {
        "type": "view_submission",
        "team": {"id": "T0001"},
        "user": {"id": ADMIN, "team_id": "T0001"},
        "view": {"id": "V1", "callback_id": CallbackId.CONNECT_SIDES, "state": {"values": values}},
    }
    body = urlencode({"payload": json.dumps(payload)})
    form = "application/x-www-form-urlencoded"
    skewed = bot.send.post(body, form, timestamp=int(time.time()) - 3600)
    forged = bot.send.post(body, form, signature="v0=" + "a" * 64)
    malformed = bot.send.post(body, form, timestamp="1796327496.5")  # type: ignore[arg-type]
    assert (skewed.status_code, forged.status_code, malformed.status_code) == (401, 401, 400)
    calls = "\n".join(repr(call.args) for call in bot.slack.calls)
    forms = {password, quote(password), quote_plus(password), json.dumps(password)[1:-1]}
    assert_nowhere(forms, everything_stored(bot.database), caplog.text, calls)
