"""The Slack bot end to end: signed requests over HTTP to the running app, Slack's Web API
replaced by the recording stand-in, SIDES by its sandbox."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select, update

from stockpot.bot.app import BOT_SCOPES
from stockpot.bot.ids import ActionId, BlockId, CallbackId
from stockpot.bot.metadata import TransferValue
from stockpot.core.access import set_role
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.db import unit_of_work
from stockpot.core.errors import ValidationFailed
from stockpot.core.jobs import specs
from stockpot.core.jobs.queue import enqueue
from stockpot.core.locations import link_storage_unit, set_active
from stockpot.core.mapping import IngredientChoice, import_mappings, set_mapping
from stockpot.core.migration import migration_running
from stockpot.core.models import (
    Company,
    Connection,
    ExternalLocation,
    Ingredient,
    Job,
    JobKind,
    LedgerMovement,
    Member,
    OAuthState,
    PosItem,
    Provider,
    Role,
    StorageUnit,
    TransferRun,
)
from stockpot.core.pos import connections
from stockpot.core.transfer.lines import RawInput, SaleLine
from stockpot.core.transfer.runner import run_transfer
from stockpot.sandbox.http import Fault
from stockpot.sandbox.sides import DEFAULT_PASSWORD, DEFAULT_USERNAME
from tests.bot.conftest import ADMIN, OTHER_ADMIN, OTHER_TEAM, STRANGER, VIEWER
from tests.holds import Hold
from tests.pos import consented


def texts(call) -> str:
    """Everything a message says, blocks included."""
    return json.dumps(call.args, ensure_ascii=False)


def reply(bot, containing: str):
    return bot.slack.wait_for("response_url", where=lambda c: containing in texts(c))[0]


def posted(bot, containing: str):
    return bot.slack.wait_for("chat.postMessage", where=lambda c: containing in texts(c))[0]


def synced(bot):
    """The final state of the sync's progress message."""
    started = posted(bot, "Sync of SIDES: locations")
    done = bot.slack.wait_for("chat.update", where=lambda c: "Sync of SIDES, done" in texts(c))[0]
    assert (
        done.args["ts"] == started.args.get("ts") or done.args["channel"] == started.args["channel"]
    )
    return done


# --- verification --------------------------------------------------------------------------


def test_unsigned_forged_and_stale_requests_are_rejected(bot):
    body = "command=%2Fpos&text=help&team_id=T0001&user_id=UADMIN&channel_id=C1"
    form = "application/x-www-form-urlencoded"
    assert bot.send.post(body, form, signature="").status_code == 401
    assert bot.send.post(body, form, signature="v0=" + "0" * 64).status_code == 401
    assert bot.send.post(body, form, timestamp=int(time.time()) - 600).status_code == 401
    assert [c.method for c in bot.slack.calls if c.method != "auth.test"] == []
    assert bot.send.command("/pos", "help", user=ADMIN).status_code == 200


# --- commands ------------------------------------------------------------------------------


def test_help_and_unknown_subcommands_show_the_usage(bot):
    bot.send.command("/pos", "", user=VIEWER)
    assert "/pos connect sides" in texts(reply(bot, "what it can do"))
    bot.send.command("/pos", "frobnicate", user=VIEWER)
    assert "`/pos frobnicate` is not a command" in texts(reply(bot, "frobnicate"))
    bot.send.command("/transfer", "someday", user=ADMIN)
    assert "use YYYY-MM-DD" in texts(reply(bot, "someday"))


def test_a_viewer_reads_but_cannot_change_anything(bot):
    bot.send.command("/ledger", "balances", user=VIEWER)
    assert "No movements yet" in texts(reply(bot, "Stock of Trattoria Esempio"))
    bot.send.command("/pos", "members add <@USTRANGER|s> admin", user=VIEWER)
    refusal = reply(bot, "you need to be an admin of Trattoria Esempio")
    assert refusal.args["response_type"] == "ephemeral"
    with bot.database.session() as session:
        assert session.scalar(select(Member).where(Member.user_id == STRANGER)) is None


def test_admins_manage_members(bot):
    bot.send.command("/pos", "members add <@USTRANGER|s> admin", user=ADMIN)
    reply(bot, "is now admin of Trattoria Esempio")
    with bot.database.session() as session:
        role = session.scalar(select(Member.role).where(Member.user_id == STRANGER))
    assert role is Role.ADMIN
    bot.send.command("/pos", "members remove <@UADMIN>", user=ADMIN)
    reply(bot, "cannot remove your own admin role")


@pytest.mark.parametrize(
    ("user", "told"),
    [
        ("UNOBODY", "Slack knows no user `UNOBODY` in this workspace: pick the person from"),
        ("UFAR", "Slack knows no user `UFAR` in this workspace"),
        (
            "UNEAR",
            "someone of another Slack workspace: roles are for people of this one (<@UNEAR>)",
        ),
        ("UAPP", "you named a bot: roles are for people (<@UAPP>)"),
        ("USLACKBOT", "you named a bot: roles are for people (<@USLACKBOT>)"),
        ("UGONE", "deactivated in this Slack workspace: roles are for people who can sign in"),
    ],
    ids=["unknown", "other-workspace", "slack-connect", "bot", "slackbot", "deactivated"],
)
def test_only_people_of_this_workspace_are_made_members(bot, user, told):
    """``/pos members add`` took any id: one Slack does not know, a bot, a deactivated
    account, someone of another workspace. Each is refused, saying which, and nothing is
    stored."""
    bot.slack.add_user("UFAR", "far", team_id="T0999")
    bot.slack.add_user("UNEAR", "near", team_id="T0998", connected=True)
    bot.slack.add_user("UAPP", "deploys", is_bot=True)
    bot.slack.add_user("UGONE", "gone", deleted=True)
    bot.send.command("/pos", f"members add <@{user}|x> viewer", user=ADMIN)
    reply(bot, told)
    with bot.database.session() as session:
        assert session.scalar(select(Member).where(Member.user_id == user)) is None


def test_a_deactivated_member_can_still_be_removed(bot):
    bot.slack.add_user("UGONE", "gone", deleted=True)
    with unit_of_work(bot.database.factory) as session:
        company = session.scalar(select(Company.id).where(Company.name == "Trattoria Esempio"))
        set_role(session, company, "T0001", "UGONE", Role.VIEWER)
    bot.send.command("/pos", "members remove <@UGONE>", user=ADMIN)
    reply(bot, "<@UGONE> is no longer a member of Trattoria Esempio")


def test_adding_a_member_without_the_users_read_permission_says_how_to_grant_it(bot):
    bot.slack.install("xoxb-sandbox", [s for s in BOT_SCOPES if s != "users:read"])
    bot.send.command("/pos", f"members add <@{STRANGER}|s> viewer", user=ADMIN)
    told = texts(reply(bot, "users:read"))
    assert "`users.info`" in told and "installs Stockpot again" in told, told
    with bot.database.session() as session:
        assert session.scalar(select(Member).where(Member.user_id == STRANGER)) is None


def test_setting_up_a_new_workspace_takes_a_slack_admin(bot):
    bot.slack.add_user("UNEW", "new", is_admin=False)
    bot.slack.add_user("UBOSS", "boss", is_admin=True)
    bot.send.command("/pos", "setup Pizzeria Nuova", user="UNEW", team="T0009")
    reply(bot, "or a workspace admin or owner, can set it up")
    bot.send.command("/pos", "setup Pizzeria Nuova", user="UBOSS", team="T0009")
    reply(bot, "now works for Pizzeria Nuova")
    bot.send.command("/pos", "setup Trattoria Esempio", user="UBOSS", team="T0008")
    reply(bot, 'stockpot slack link \\"Trattoria Esempio\\"')
    # Someone Slack's users.info does not know (user_not_found): refused, not "Something went
    # wrong".
    bot.send.command("/pos", "setup Pizzeria Fantasma", user="UGHOST", team="T0007")
    reply(bot, "Slack did not say whether you are a workspace admin (user_not_found); only the")


def test_setting_up_without_the_users_read_permission_says_which_and_how_to_grant_it(bot):
    """Installed without ``users:read``: whether the one setting up is a workspace admin
    cannot be read (``users.info`` is ``missing_scope``). The answer was "Slack did not say
    whether you are a workspace admin (missing_scope)", with no fix; now it names the
    permission and that a workspace admin installs Stockpot again to grant it."""
    bot.slack.install("xoxb-sandbox", [s for s in BOT_SCOPES if s != "users:read"])
    bot.slack.add_user("UBOSS", "boss", is_admin=True)
    bot.send.command("/pos", "setup Pizzeria Nuova", user="UBOSS", team="T0009")
    told = texts(reply(bot, "users:read"))
    assert "`users.info`" in told and "installs Stockpot again" in told, told
    with bot.database.session() as session:
        assert session.scalar(select(Company.id).where(Company.name == "Pizzeria Nuova")) is None


# --- SIDES, sync, transfer -----------------------------------------------------------------


def connect_sides(bot, password=DEFAULT_PASSWORD, username=DEFAULT_USERNAME, modals=1):
    """The ``modals``-th modal Slack opened, submitted."""
    bot.send.command("/pos", "connect sides", user=ADMIN)
    view = bot.slack.wait_for("views.open", modals)[-1].args["view"]
    assert view["callback_id"] == CallbackId.CONNECT_SIDES
    values = {
        BlockId.SIDES_USERNAME: {
            ActionId.SIDES_USERNAME: {"type": "plain_text_input", "value": username}
        },
        BlockId.SIDES_PASSWORD: {
            ActionId.SIDES_PASSWORD: {"type": "plain_text_input", "value": password}
        },
    }
    return bot.send.view_submission(view, values, user=ADMIN)


def test_wrong_sides_credentials_are_shown_inside_the_modal(bot):
    answer = connect_sides(bot, password="wrong")
    assert answer.status_code == 200
    body = answer.json()
    assert body["response_action"] == "errors"
    assert (
        "with this password: check the username and password"
        in body["errors"][BlockId.SIDES_PASSWORD]
    )
    with bot.database.session() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Connection).where(Connection.provider == "sides")
            )
            == 0
        )


def teltow_synced_and_active(bot) -> None:
    """SIDES (connected) synced, and its store 36, Teltow, linked to Kitchen and active."""
    bot.send.command("/pos", "sync", user=ADMIN)
    synced(bot)
    with unit_of_work(bot.database.factory) as session:
        store = session.scalar(select(ExternalLocation).where(ExternalLocation.external_id == "36"))
        link_storage_unit(session, store, "Kitchen")
        store.active = True


def test_a_sign_in_update_to_a_user_who_does_not_see_an_active_store_is_shown_in_the_modal(
    bot,
):
    assert connect_sides(bot).status_code == 200
    teltow_synced_and_active(bot)
    bot.sides.add_user("kueche@pizzeria-beispiel.de", "pw", [41])
    answer = connect_sides(bot, password="pw", username="kueche@pizzeria-beispiel.de", modals=2)
    assert answer.status_code == 200
    body = answer.json()
    assert body["response_action"] == "errors"
    assert body["errors"] == {
        BlockId.SIDES_USERNAME: "this SIDES user does not see Pizzeria Beispiel Teltow, active "
        "here: sign in as one who sees it, or deactivate it in `/pos locations` first"
    }
    with bot.database.session() as session:
        connection_id = session.scalar(
            select(Connection.id).where(Connection.provider == Provider.SIDES)
        )
    signed_in = connections.test_connection(bot.database.factory, bot.settings, connection_id)
    assert "connected as inventory@" in signed_in, "the sign-in was not changed"


def test_connect_sync_preview_and_post_a_day(bot):
    answer = connect_sides(bot)
    assert answer.status_code == 200 and answer.text == ""
    posted(bot, "connected SIDES for Trattoria Esempio")
    bot.send.command("/pos", "sync", user=ADMIN)
    summary = synced(bot)
    assert "locations 2 new" in texts(summary)
    with unit_of_work(bot.database.factory) as session:
        store = session.scalar(select(ExternalLocation).where(ExternalLocation.external_id == "36"))
        link_storage_unit(session, store, "Kitchen")
        store.active = True
        cola = session.scalar(select(PosItem).where(PosItem.key == "8001"))
        set_mapping(session, cola, IngredientChoice(_ingredient(session, "House red"), 1))
    bot.send.command("/transfer", "2025-03-14 Pizzeria Beispiel Teltow", user=ADMIN)
    preview = posted(bot, "Preview: Pizzeria Beispiel Teltow, 2025-03-14")
    assert "*1 deduction* (1 counted)" in texts(preview)
    assert "Largest of each kind, all from Kitchen: House red 3 pcs" in texts(preview)
    assert _count(bot, LedgerMovement) == 0
    # With a cost (read when the report is shown), the largest deductions rank by money.
    with unit_of_work(bot.database.factory) as session:
        wine = session.scalar(select(Ingredient).where(Ingredient.name == "House red"))
        wine.cost = Decimal("4.50")
    # A second preview that reads the new cost: asked once the first preview's job is done
    # (its message can come first); asked while it runs, it would be pointed to that message
    # (test_jobs_flow: a preview asked again while the first runs).
    bot.drain()
    bot.send.command("/transfer", "2025-03-14 Pizzeria Beispiel Teltow", user=ADMIN)
    bot.drain()
    again = bot.slack.wait_for(
        "chat.postMessage", 2, where=lambda c: "Preview: Pizzeria Beispiel Teltow" in texts(c)
    )[-1]
    assert "Largest by value, all from Kitchen: House red 3 pcs (13.50 EUR)" in texts(again)
    button = next(
        element
        for block in preview.args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    )
    assert button["confirm"]["confirm"]["text"] == "Post", "posting asks first"
    stale = bot.slack.workspace.message(preview.ts).payload()
    bot.send.click(preview.ts, ActionId.TRANSFER_POST, user=ADMIN)
    # The preview itself becomes the result: the spent button goes, then "Posted".
    spent = reply(bot, "to the ledger…")
    assert spent.args["replace_original"] and ActionId.TRANSFER_POST not in texts(spent)
    done = bot.slack.wait_for("chat.update", where=lambda c: "Posted: Pizzeria" in texts(c))[0]
    assert done.args["ts"] == preview.ts
    assert not [
        c for c in bot.slack.calls if c.method == "chat.postMessage" and "Posted:" in texts(c)
    ]
    assert _count(bot, LedgerMovement) == 1
    # A stale copy of the preview (another device): answered, the result left as it is.
    bot.send.action(
        {"type": "button", "action_id": ActionId.TRANSFER_POST, "value": button["value"]},
        user=ADMIN,
        message=stale,
    )
    reply(bot, "already posted")
    bot.drain()
    assert "Posted: Pizzeria" in json.dumps(bot.slack.workspace.message(preview.ts).blocks)
    assert len([c for c in bot.slack.calls if "Posted: Pizzeria" in texts(c)]) == 1
    # The day as posted: its preview says so and offers nothing to post.
    bot.send.command("/transfer", "2025-03-14 Pizzeria Beispiel Teltow", user=ADMIN)
    bot.drain()
    matching = bot.slack.wait_for(
        "chat.postMessage", 3, where=lambda c: "Preview: Pizzeria Beispiel Teltow" in texts(c)
    )[-1]
    assert "Matches what is posted: nothing to post." in texts(matching)
    assert ActionId.TRANSFER_POST not in texts(matching)
    # A preview shown before the day was posted still offers it: pressed now, it becomes the
    # result (unchanged) and posts nothing more.
    bot.send.click(again.ts, ActionId.TRANSFER_POST, user=ADMIN)
    unchanged = bot.slack.wait_for(
        "chat.update", where=lambda c: "Unchanged: Pizzeria" in texts(c), timeout=30
    )[0]
    assert unchanged.args["ts"] == again.ts and "nothing posted" in texts(unchanged)
    assert _count(bot, LedgerMovement) == 1
    bot.send.command("/pos", "locations", user=VIEWER)
    listing = reply(bot, "Locations of Trattoria Esempio")
    assert "Pizzeria Beispiel Teltow" in texts(listing)
    assert ActionId.LOCATION_DEACTIVATE not in texts(listing), "viewers get no buttons"


def test_another_workspace_cannot_touch_this_company_by_id(bot):
    connect_sides(bot)
    posted(bot, "connected SIDES")
    bot.send.command("/pos", "sync", user=ADMIN)
    synced(bot)
    with bot.database.session() as session:
        store = session.scalar(select(ExternalLocation).where(ExternalLocation.external_id == "41"))
    value = TransferValue(location_id=store.id, business_date=date(2025, 3, 14)).dump()
    bot.send.block_action(ActionId.TRANSFER_POST, value, user=OTHER_ADMIN, team=OTHER_TEAM)
    bot.send.block_action(
        ActionId.LOCATION_ACTIVATE, str(store.id), user=OTHER_ADMIN, team=OTHER_TEAM
    )
    refusals = bot.slack.wait_for(
        "response_url", 2, where=lambda c: "does not belong to Osteria Altra" in texts(c)
    )
    assert len(refusals) == 2
    bot.send.block_action(ActionId.TRANSFER_POST, value, user=VIEWER)
    reply(bot, "you need to be an admin")
    bot.send.block_action(ActionId.TRANSFER_POST, "not json", user=ADMIN)
    reply(bot, "not one Stockpot made")
    bot.drain()
    with bot.database.session() as session:
        assert not session.get_one(ExternalLocation, store.id).active
    assert _count(bot, LedgerMovement) == 0


def test_the_app_home_shows_the_company(bot):
    bot.send.event({"type": "app_home_opened", "user": ADMIN, "tab": "home"})
    home = bot.slack.wait_for("views.publish")[0]
    assert "Stockpot for Trattoria Esempio" in texts(home)
    assert "Main room: active · days come from uploaded CSV files · no day transferred yet" in (
        texts(home)
    ), "a CSV location says where its days come from, not 'automatic transfer active'"
    assert "Till export (CSV): connected" in texts(home) and "*Unmapped items:* 0" in texts(home)
    bot.send.event(
        {"type": "app_home_opened", "user": "U9", "tab": "home"}, team="T0777", event_id="Ev7"
    )
    lonely = bot.slack.wait_for("views.publish", 2)[1]
    assert "not linked to a company yet" in texts(lonely)


def _ingredient(session, name):
    return session.scalar(select(Ingredient.id).where(Ingredient.name == name))


def _count(bot, model) -> int:
    with bot.database.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def _lightspeed_link(bot, nth: int = 1) -> str:
    """The start link ``/pos connect lightspeed`` offers the admin (the ``nth`` time)."""
    bot.send.command("/pos", "connect lightspeed", user=ADMIN)
    offer = bot.slack.wait_for(
        "response_url", nth, where=lambda c: "Connect Lightspeed" in texts(c)
    )[nth - 1]
    return next(block["accessory"]["url"] for block in offer.args["blocks"] if "accessory" in block)


def _posts(bot) -> list:
    return [call for call in bot.slack.calls if call.method == "chat.postMessage"]


def _lightspeed_connections(bot) -> int:
    with bot.database.session() as session:
        return len(
            session.scalars(
                select(Connection).where(Connection.provider == Provider.LIGHTSPEED)
            ).all()
        )


def test_connecting_lightspeed_ends_on_a_page_and_in_the_channel(bot):
    """The page names what was connected to what, for whoever consented to see; the channel
    is told the business too, in the one message it gets."""
    link = _lightspeed_link(bot)
    assert link.startswith(f"http://127.0.0.1:{bot.port}/lightspeed/oauth/start?s=")
    with httpx.Client() as browser:
        start = browser.get(link)
        assert start.status_code == 302, start.text
        cookie = start.headers["set-cookie"]
        assert cookie.startswith("stockpot-lightspeed=") and "Secure" not in cookie
        assert all(part in cookie for part in ("HttpOnly", "SameSite=Lax", "Max-Age=600"))
        consent = browser.get(start.headers["location"])
        callback = browser.get(consent.headers["location"])
        assert callback.status_code == 200 and "Lightspeed is connected" in callback.text
        assert "Max-Age=0" in callback.headers["set-cookie"], "the binding is done with"
    page = callback.text
    assert "Harbour Kitchen Group (business 100421)" in page
    assert "Copper Pot Hospitality (business 200873)" in page
    assert "Trattoria Esempio" in page and "T0001" in page
    announcement = posted(bot, "Lightspeed is connected for Trattoria Esempio")
    assert announcement.args["channel"] == "C0001" and "<@UADMIN>" in texts(announcement)
    assert "it reads Harbour Kitchen Group (business 100421)" in texts(announcement)
    bot.drain()
    said = [c for c in _posts(bot) if "Lightspeed" in texts(c)]
    assert len(said) == 1, said


def test_over_https_the_lightspeed_cookie_is_secure_and_host_only(bot, monkeypatch):
    """Where the redirect URI is HTTPS the binding cookie is ``Secure`` and ``__Host-``
    (no sibling subdomain can plant one). Served here over loopback HTTP, the browser's
    HTTPS is played by hand: the addresses are rewritten and the cookie passed back."""
    https = f"https://127.0.0.1:{bot.port}/lightspeed/oauth/callback"
    monkeypatch.setattr(bot.settings.lightspeed, "redirect_uri", https)
    link = _lightspeed_link(bot)
    assert link.startswith(f"https://127.0.0.1:{bot.port}/lightspeed/oauth/start?s=")
    start = httpx.get(link.replace("https:", "http:", 1))
    cookie = start.headers["set-cookie"]
    assert cookie.startswith("__Host-stockpot-lightspeed=") and "; Secure" in cookie
    assert "Path=/;" in cookie and "Domain" not in cookie
    back = httpx.get(start.headers["location"]).headers["location"]
    assert back.startswith(https)
    callback = httpx.get(
        back.replace("https:", "http:", 1), headers={"Cookie": cookie.split(";")[0]}
    )
    assert callback.status_code == 200 and "Harbour Kitchen Group" in callback.text


def test_a_forwarded_lightspeed_link_connects_nothing(bot):
    """Login CSRF: an admin opens the link, then forwards Lightspeed's page to a Lightspeed
    user of another restaurant, who consents. The callback, in that user's browser, lacks the
    admin's cookie: refused, nothing exchanged or stored, and the code it carried is of no
    use in the admin's browser either."""
    link = _lightspeed_link(bot)
    copper = [location.id for location in bot.lightspeed.businesses[1].locations]
    bot.lightspeed.add_user("owner@copper.test", copper)
    bot.lightspeed.login_as("owner@copper.test")
    with httpx.Client() as admin, httpx.Client() as victim:
        forwarded = admin.get(link).headers["location"]
        back = victim.get(forwarded).headers["location"]
        refused = victim.get(back)
        assert refused.status_code == 400 and "Lightspeed is not connected" in refused.text
        assert "not started in this browser, so nothing was connected" in refused.text
        handed_back = admin.get(back)
        assert handed_back.status_code == 400, handed_back.text
        assert "not started in this browser" in handed_back.text
    assert not [r for r in bot.lightspeed.requests if r.path.endswith("/token")]
    assert _lightspeed_connections(bot) == 0
    bot.drain()
    assert not [c for c in _posts(bot) if "Lightspeed is" in texts(c)]


def test_a_lightspeed_start_link_works_once_and_not_late(bot):
    link = _lightspeed_link(bot)
    assert httpx.head(link).status_code == 405, "a link checker's HEAD does not spend it"
    assert httpx.get(link).status_code == 302
    again = httpx.get(link)
    assert again.status_code == 400 and "opened already" in again.text
    assert "set-cookie" not in again.headers
    late = _lightspeed_link(bot, 2)
    with unit_of_work(bot.database.factory) as session:
        session.execute(
            update(OAuthState)
            .where(OAuthState.opened_at.is_(None))
            .values(expires_at=datetime(2026, 1, 1, tzinfo=UTC))
        )
    expired = httpx.get(late)
    assert expired.status_code == 400 and "expired (a link works for 5 minutes)" in expired.text
    for forged in (late.replace("s=", "s=x"), late.split("?")[0]):
        answer = httpx.get(forged)
        assert answer.status_code == 400 and "not one Stockpot made" in answer.text


def test_a_lightspeed_authorization_from_the_command_line_is_finished_there(bot):
    """The CLI prints Lightspeed's own page (no browser to bind): the callback page says to
    finish with ``finish-lightspeed``, and leaves the authorization for it."""
    with bot.database.session() as session:
        company = session.scalar(select(Company.id).where(Company.name == "Trattoria Esempio"))
    url = connections.start_lightspeed(
        bot.database.factory, bot.settings, company_id=company, started_by="cli"
    )
    back = httpx.get(url).headers["location"]
    page = httpx.get(back)
    assert page.status_code == 400 and "stockpot pos finish-lightspeed" in page.text
    query = parse_qs(urlsplit(back).query)
    info = connections.complete_lightspeed(
        bot.database.factory,
        bot.settings,
        state=query["state"][0],
        code=query["code"][0],
        cookie=None,
    )
    assert info.status == "connected" and "Harbour Kitchen Group" in info.account


def test_the_lightspeed_page_opened_again_says_it_is_connected(bot):
    """Reloading the page Lightspeed sent back to (a refresh, a tab restored) answered
    'Lightspeed is not connected ... run /pos connect lightspeed again' for a connection just
    made: the state is used once, but what the page says must be true."""
    link = _lightspeed_link(bot)
    with httpx.Client() as browser:
        callback = consented(browser, link)
        assert browser.get(callback).status_code == 200
    posted(bot, "Lightspeed is connected for Trattoria Esempio")
    again = httpx.get(callback)
    assert again.status_code == 200, again.text
    assert "Lightspeed is connected</h1>" in again.text and "not connected" not in again.text
    assert "opened again" in again.text
    # Whoever holds the address (a browser's history) is not told whose business it is.
    assert "Trattoria Esempio" not in again.text
    assert again.headers["Cache-Control"] == "no-store"
    for method in ("HEAD", "POST"):
        assert httpx.request(method, callback).status_code == 405
    with unit_of_work(bot.database.factory) as session:
        session.execute(update(OAuthState).values(expires_at=datetime(2026, 1, 1, tzinfo=UTC)))
    next_day = httpx.get(callback)
    assert next_day.status_code == 200 and "expired" not in next_day.text, "used, not expired"
    assert _lightspeed_connections(bot) == 1


def test_a_lightspeed_grant_without_offline_access_is_refused_on_the_page(bot):
    """Lightspeed may grant fewer scopes than asked (declined at consent, or not enabled for
    the API client): without ``offline_access`` the sign-in lasts under an hour and a
    reconnect would be asked every morning. The page says which scope and what to do, and
    nothing is connected or announced."""
    bot.lightspeed.withhold_scopes("offline_access")
    with httpx.Client() as browser:
        page = browser.get(consented(browser, _lightspeed_link(bot)))
    assert page.status_code == 400 and "Lightspeed is not connected" in page.text
    assert "did not grant the scope offline_access" in page.text
    assert "Connect again and approve every permission" in page.text
    assert _lightspeed_connections(bot) == 0
    bot.drain()
    assert not [c for c in _posts(bot) if "Lightspeed is connected" in texts(c)]
    bot.lightspeed.withhold_scopes()
    with httpx.Client() as browser:
        again = browser.get(consented(browser, _lightspeed_link(bot, 2)))
    assert again.status_code == 200 and "Lightspeed is connected" in again.text
    assert _lightspeed_connections(bot) == 1


def test_a_refused_lightspeed_callback_is_one_log_line(bot, caplog):
    """A forged or reused state, or Lightspeed's own error, ends on a page saying why and in
    one log line (nothing was logged), which a line break in the URL cannot split."""
    base = bot.settings.lightspeed.redirect_uri
    for query in ("state=forged&code=x", "error=access_denied%0Aforged%20line&state=x"):
        answer = httpx.get(f"{base}?{query}")
        assert answer.status_code == 400 and "Lightspeed is not connected" in answer.text
    refused = [r.getMessage() for r in caplog.records if "Lightspeed callback" in r.getMessage()]
    assert len(refused) == 2, refused
    assert "not one Stockpot started" in refused[0] and "\n" not in refused[1]


def test_lightspeed_s_error_is_shown_by_its_code_never_as_free_text(bot):
    """The callback's ``error`` is in a URL anyone can send: as free text it put their words
    ('log in again at ...') on Stockpot's page. Only an OAuth error code is shown."""
    base = bot.settings.lightspeed.redirect_uri
    denied = httpx.get(base, params={"error": "access_denied", "state": "x"})
    assert denied.status_code == 400 and "access was not allowed (access_denied)" in denied.text
    other = httpx.get(base, params={"error": "invalid_scope"})
    assert "Lightspeed answered with the error invalid_scope." in other.text
    lure = "Your session expired. Log in again at https://evil.example/login"
    forged = httpx.get(base, params={"error": lure})
    assert forged.status_code == 400 and "Lightspeed is not connected" in forged.text
    assert "evil.example" not in forged.text and "session expired" not in forged.text
    assert "an error that is not an OAuth error code" in forged.text


def _synced(bot):
    connect_sides(bot)
    posted(bot, "connected SIDES")
    bot.send.command("/pos", "sync", user=ADMIN)
    synced(bot)
    with bot.database.session() as session:
        return session.scalar(
            select(ExternalLocation).where(ExternalLocation.external_id == "36")
        ).id


def _select(bot, value: str, user: str = ADMIN, team: str = "T0001"):
    payload_action = {
        "type": "static_select",
        "action_id": ActionId.LOCATION_STORAGE,
        "block_id": "b",
        "selected_option": {"value": value},
        "action_ts": str(time.time()),
    }
    return bot.send.interaction(
        {
            "type": "block_actions",
            "team": {"id": team},
            "user": {"id": user, "team_id": team},
            "api_app_id": "A0001",
            "trigger_id": f"t{time.time()}",
            "channel": {"id": "C0001"},
            "container": {"type": "message", "channel_id": "C0001"},
            "response_url": f"{bot.slack.url}/respond/select",
            "actions": [payload_action],
        }
    )


def test_locations_are_set_up_from_their_message(bot):
    """Each button of the locations list redraws that list in place: the location's new
    state and buttons, and what was done under its row; no stale Activate is left."""
    store = _synced(bot)
    bot.send.command("/pos", "locations", user=ADMIN)
    listing = reply(bot, "Locations of Trattoria Esempio")
    assert ActionId.LOCATION_STORAGE in texts(listing)
    # Inactive and unlinked: nothing to pause, nothing to migrate into yet.
    assert ActionId.LOCATION_PAUSE not in texts(listing)
    assert ActionId.LOCATION_MIGRATE not in texts(listing)
    bot.send.click(listing.ts, ActionId.LOCATION_ACTIVATE, value=str(store), user=ADMIN)
    reply(bot, "cannot be activated before it is linked to a storage unit")
    with bot.database.session() as session:
        bar = session.scalar(select(StorageUnit.id).where(StorageUnit.name == "Bar"))
        cantina = session.scalar(select(StorageUnit.id).where(StorageUnit.name == "Cantina"))
    # Another company's unit is answered exactly as an id no unit has (which says nothing
    # of whose it is).
    _select(bot, f"{store}:{cantina}")
    foreign = reply(bot, "is no storage unit of this company").args["text"]
    _select(bot, f"{store}:{10**6}")
    missing = bot.slack.wait_for("response_url", 2, where=lambda c: "is no storage" in texts(c))
    assert missing[-1].args["text"] == foreign
    assert "that is no storage unit of this company (known: Bar, Kitchen, Pastry)" in foreign
    bot.send.click(listing.ts, ActionId.LOCATION_STORAGE, choose=f"{store}:{bar}", user=ADMIN)
    linked = reply(bot, "now takes its sales from Bar")
    assert linked.args["replace_original"] and linked.ts == listing.ts

    assert "Bar · inactive" in texts(linked) and ActionId.LOCATION_MIGRATE in texts(linked)
    bot.send.click(listing.ts, ActionId.LOCATION_ACTIVATE, value=str(store), user=ADMIN)
    activated = reply(bot, "Pizzeria Beispiel Teltow activated by <@UADMIN>")
    assert activated.ts == listing.ts
    assert "active · each closed day is transferred automatically" in texts(activated)
    assert "Migrate 90 days* above" in texts(activated)
    with pytest.raises(AssertionError, match="shows no location_activate"):
        bot.send.click(listing.ts, ActionId.LOCATION_ACTIVATE, value=str(store), user=ADMIN)
    bot.send.click(listing.ts, ActionId.LOCATION_PAUSE, value=str(store), user=ADMIN)
    paused = reply(bot, "paused; setup and history are kept")
    assert paused.ts == listing.ts and "automatic transfer paused" in texts(paused)
    assert ActionId.LOCATION_RESUME in texts(paused)
    with bot.database.session() as session:
        location = session.get_one(ExternalLocation, store)
        assert (location.storage_unit_id, location.active) == (bar, True)
        assert location.automatic_transfer.value == "paused"
    bot.send.click(listing.ts, ActionId.LOCATION_RESUME, value=str(store), user=ADMIN)
    resumed = reply(bot, "Automatic transfers of Pizzeria Beispiel Teltow resumed")
    assert resumed.ts == listing.ts and ActionId.LOCATION_PAUSE in texts(resumed)
    bot.send.command("/transfer", "status", user=VIEWER)
    status = reply(bot, "Transfers of Trattoria Esempio")
    assert (
        "*Pizzeria Beispiel Teltow*: active · each closed day is transferred automatically at 06:00 · no day transferred yet"
        in texts(status)
    )
    lists = [m for m in bot.slack.workspace.messages if "Locations of" in json.dumps(m.blocks)]
    assert [m.ts for m in lists] == [listing.ts], "one list, updated in place"


def test_ledger_movements_summarise_a_period_and_attach_a_csv_when_long(bot):
    names = [f"Spice {i:02d}" for i in range(40)]
    catalog = "company: Trattoria Esempio\ningredients:\n" + "".join(
        f"  - {{name: {n}, base_unit: g}}\n" for n in names
    )
    import_catalog(bot.database.factory, catalog, source="spices.yaml")
    mappings = "company: Trattoria Esempio\nconnection: csv:Till export\nmappings:\n" + "".join(
        f'  - {{pos_code: "S{i}", ingredient: {n}, quantity: 2}}\n' for i, n in enumerate(names)
    )
    import_mappings(bot.database.factory, mappings, source="spices-map.yaml")
    with bot.database.session() as session:
        main_room = session.scalar(
            select(ExternalLocation.id).where(ExternalLocation.name == "Main room")
        )
    lines = [SaleLine("S1", str(i), f"S{i}", n, Decimal(i + 1)) for i, n in enumerate(names)]
    run_transfer(bot.database.factory, main_room, date(2026, 11, 27), lines, RawInput("t", "[]"))
    bot.send.command("/ledger", "2026-11-27 Kitchen", user=VIEWER)
    summary = reply(bot, "Movements of Trattoria Esempio, Fri 2026-11-27, Kitchen")
    assert "Spice 39: -80 g (1 movement)" in texts(summary)
    assert "All 40 lines are in the CSV file" in texts(summary)
    bot.slack.wait_for("files.completeUploadExternal")
    (csv_bytes,) = bot.slack.uploads.values()
    rows = csv_bytes.decode().splitlines()
    assert rows[0] == "storage_unit,ingredient,unit,quantity,movements"
    assert len(rows) == 41 and "Kitchen,Spice 00,g,-2,1" in rows
    bot.send.command("/ledger", "2026-11-28..2026-11-01", user=VIEWER)
    reply(bot, "ends before it starts")


def test_storage_units_are_listed_and_created_by_admins(bot):
    bot.send.command("/pos", "storage", user=VIEWER)
    listing = reply(bot, "Storage units of Trattoria Esempio")
    assert "*Kitchen* · Via Roma 1, Milano · 1 location" in texts(listing)
    bot.send.command("/pos", "storage add Cold room | Via Roma 1, Milano", user=VIEWER)
    reply(bot, "you need to be an admin")
    bot.send.command("/pos", "storage add Cold room", user=ADMIN)
    reply(bot, "/pos storage add &lt;name&gt; | &lt;address&gt;")
    bot.send.command("/pos", "storage add Cold room | Via Roma 1, Milano", user=ADMIN)
    reply(bot, "Storage unit Cold room created")
    bot.send.command("/pos", "storage add Kitchen | elsewhere", user=ADMIN)
    reply(bot, "already a storage unit named 'Kitchen'")
    with bot.database.session() as session:
        assert (
            session.scalar(select(StorageUnit.address).where(StorageUnit.name == "Cold room"))
            == "Via Roma 1, Milano"
        )


def test_the_doctor_runs_the_checklists_for_real(bot):
    _synced(bot)
    bot.send.command("/pos", "doctor Pizzeria Beispiel Teltow", user=VIEWER)
    report = bot.slack.wait_for(
        "response_url", where=lambda c: "Checks for Trattoria Esempio:" in texts(c)
    )[0]
    text = texts(report)
    assert ":white_check_mark: credentials valid, POS reachable" in text
    assert ":x: admin rights" in text
    assert ":x: storage unit linked — choose one in `/pos locations`" in text
    assert ":x: last transfer succeeded — no transfer yet" in text
    bot.sides.disable_user("inventory@pizzeria-beispiel.de")
    bot.send.command("/pos", "doctor", user=ADMIN)
    report = bot.slack.wait_for(
        "response_url", 2, where=lambda c: "Checks for Trattoria Esempio:" in texts(c)
    )[1]
    assert (
        ":x: credentials valid, POS reachable — SIDES has locked or deactivated the user "
        "'inventory@pizzeria-beispiel.de': ask your SIDES admin to unlock it"
    ) in texts(report)
    assert ":white_check_mark: admin rights" in texts(report)


def test_a_migration_reports_progress_in_one_message(bot):
    store = _synced(bot)
    with unit_of_work(bot.database.factory) as session:
        link_storage_unit(session, session.get_one(ExternalLocation, store), "Kitchen")
    bot.send.command("/pos", "migrate Pizzeria Beispiel Teltow 3", user=ADMIN)
    reply(bot, "Migrating 3 days of Pizzeria Beispiel Teltow")
    started = posted(bot, "Migrating Pizzeria Beispiel Teltow: 0/3 days")
    done = bot.slack.wait_for("chat.update", where=lambda c: "Migrated Pizzeria" in texts(c))[0]
    assert started.args["channel"] == "C0001" and done.args["channel"] == "C0001"
    assert "3/3 days" in texts(done) and "3 posted, 0 unchanged, 0 failed" in texts(done)
    with bot.database.session() as session:
        kinds = session.scalars(
            select(TransferRun.kind).where(TransferRun.location_id == store)
        ).all()
    assert [k.value for k in kinds] == ["migration"] * 3


def test_a_day_count_that_is_no_usable_number_is_refused_with_its_range(bot):
    """`/pos migrate Main room 1e309` was told "no location 'Main room 1e309'; did you mean
    Main room?": what reads as a number after a location's name is its day count, refused
    with the range it may take; nothing is queued. A misspelt name is still told by name."""
    store = _synced(bot)
    with unit_of_work(bot.database.factory) as session:
        link_storage_unit(session, session.get_one(ExternalLocation, store), "Kitchen")
    for written in ("1e309", "-5", "0", "1.5", "401", "1,5"):
        bot.send.command("/pos", f"migrate Pizzeria Beispiel Teltow {written}", user=ADMIN)
        told = texts(reply(bot, f"from 1 to 400, not {written}"))
        assert f"migrate a whole number of days from 1 to 400, not {written}" in told
        assert "no location" not in told
    bot.send.command("/pos", "migrate Pizzeria Beispiel Telt 1.5", user=ADMIN)
    reply(bot, "did you mean Pizzeria Beispiel Teltow")
    with bot.database.session() as session:
        assert session.scalar(select(Job.id).where(Job.kind == JobKind.MIGRATION)) is None


def test_one_migration_per_location_and_no_activation_meanwhile(bot):
    store = _synced(bot)
    # Held, not refused: a migration SIDES answers 503 ran out of attempts (retries are
    # immediate here) before the checks below, on a loaded machine, and was no longer running.
    hold = Hold()
    bot.sides.faults.add(Fault(before=hold), path="/api/v1/", times=1000)
    with unit_of_work(bot.database.factory) as session:
        location = session.get_one(ExternalLocation, store)
        link_storage_unit(session, location, "Kitchen")
        first = enqueue(session, specs.migration(location.company_id, store, 3, triggered_by="t"))
        again = enqueue(session, specs.migration(location.company_id, store, 3, triggered_by="t"))
        assert first.created and not again.created and again.job_id == first.job_id
        assert migration_running(session, store)
    bot.send.command("/pos", "migrate Pizzeria Beispiel Teltow 3", user=ADMIN)
    reply(bot, "The same migration of Pizzeria Beispiel Teltow is already under way;")
    with (
        unit_of_work(bot.database.factory) as session,
        pytest.raises(ValidationFailed, match="is being migrated"),
    ):
        set_active(session, session.get_one(ExternalLocation, store), True)
    bot.sides.faults.clear()
    hold.release.set()
    bot.drain()
    with bot.database.session() as session:
        assert not migration_running(session, store)


def test_a_migration_joined_with_no_report_channel_is_not_promised_there(bot):
    """`/pos migrate` while the command line's migration of the location runs (it reports to
    the report channel) in a company with no report channel: its result is posted nowhere
    in Slack, so the note must not send anyone to look "in the report channel"."""
    store = _synced(bot)
    hold = Hold()  # the migration stays under way (see the test above)
    bot.sides.faults.add(Fault(before=hold), path="/api/v1/", times=1000)
    with unit_of_work(bot.database.factory) as session:
        location = session.get_one(ExternalLocation, store)
        link_storage_unit(session, location, "Kitchen")
        enqueue(session, specs.migration(location.company_id, store, 3, triggered_by="cli"))
    bot.send.command("/pos", "migrate Pizzeria Beispiel Teltow 3", user=ADMIN)
    note = reply(bot, "The same migration of Pizzeria Beispiel Teltow is already under way;")
    assert "in the report channel" not in texts(note)
    assert "no report channel" in texts(note) and "/pos report here" in texts(note)
    bot.sides.faults.clear()
    hold.release.set()
    bot.drain()


def test_connect_sides_again_updates_the_sign_in_and_keeps_the_setup(bot):
    store = _synced(bot)
    with unit_of_work(bot.database.factory) as session:
        link_storage_unit(session, session.get_one(ExternalLocation, store), "Kitchen")
    bot.sides.add_user("kasse@pizzeria-beispiel.de", "neu", [36, 41])
    bot.send.command("/pos", "connect sides", user=ADMIN)
    view = bot.slack.wait_for("views.open", 2)[-1].args["view"]
    assert view["submit"]["text"] == "Update"
    values = {
        BlockId.SIDES_USERNAME: {ActionId.SIDES_USERNAME: {"value": "kasse@pizzeria-beispiel.de"}},
        BlockId.SIDES_PASSWORD: {ActionId.SIDES_PASSWORD: {"value": "neu"}},
    }
    assert bot.send.view_submission(view, values, user=ADMIN).text == ""
    posted(bot, "updated the sign-in of SIDES")
    with bot.database.session() as session:
        assert session.get_one(ExternalLocation, store).storage_unit_id is not None
        assert session.scalar(select(func.count()).select_from(Connection)) == 2  # csv + sides


def test_the_migrate_button_and_the_remaining_commands(bot):
    store = _synced(bot)
    with unit_of_work(bot.database.factory) as session:
        link_storage_unit(session, session.get_one(ExternalLocation, store), "Kitchen")
    hold = Hold()
    bot.sides.faults.add(Fault(before=hold), path="/daily-reports/", times=1)
    bot.send.block_action(ActionId.LOCATION_MIGRATE, str(store), user=ADMIN)
    posted(bot, "Migrating Pizzeria Beispiel Teltow: 0/90 days")
    assert hold.arrived.wait(30)
    relisted = reply(bot, "Started by <@UADMIN>")
    assert relisted.args["replace_original"]
    row = _location_row(relisted, "Pizzeria Beispiel Teltow")
    with bot.database.session() as session:
        location = session.get_one(ExternalLocation, store)
        job = session.scalars(
            select(Job).where(Job.location_id == store, Job.kind == JobKind.MIGRATION)
        ).one()
        assert job.started_at is not None
        zone = ZoneInfo(location.timezone)
        said = {
            f"migration queued {job.created_at.astimezone(zone):%H:%M %Z} (its own message",
            f"migration started {job.started_at.astimezone(zone):%H:%M %Z} (its own message",
        }
    # The list is read after it is posted: it says when the migration began (queued or
    # started, as the worker had it then), never "now".
    assert any(words in row for words in said), row
    assert "migrating now" not in row
    assert ActionId.LOCATION_MIGRATE not in row, "no second Migrate while one is pending"
    hold.release.set()
    bot.slack.wait_for(
        "chat.update",
        where=lambda c: "Migrated Pizzeria Beispiel Teltow: 90/90" in texts(c),
        timeout=60,
    )
    bot.drain()  # the job's row is done too: its last message is posted just before
    bot.send.command("/pos", "locations", user=ADMIN)
    listed = bot.slack.wait_for(
        "response_url", 2, where=lambda c: "Locations of Trattoria Esempio" in texts(c)
    )[-1]
    row = _location_row(listed, "Pizzeria Beispiel Teltow")
    assert ActionId.LOCATION_MIGRATE in row and "migrating" not in row, "offered again when done"
    bot.send.command("/pos", "test", user=ADMIN)
    result = reply(bot, "SIDES: connected as inventory@pizzeria-beispiel.de")
    assert ":white_check_mark:" in texts(result)
    with bot.database.session() as session:
        day = session.scalar(
            select(TransferRun.business_date).where(TransferRun.location_id == store).limit(1)
        )
    bot.send.command("/transfer", f"log Pizzeria Beispiel Teltow {day}", user=VIEWER)
    log = reply(bot, f"Transfer log of Pizzeria Beispiel Teltow, {day}")
    assert "migration · succeeded" in texts(log)


def _location_row(message, name: str) -> str:
    """The JSON of a locations list's row of ``name``: its section up to the next one."""
    blocks = message.args["blocks"]
    start = next(
        i for i, b in enumerate(blocks) if b["type"] == "section" and f"*{name}*" in json.dumps(b)
    )
    end = next(
        (i for i in range(start + 1, len(blocks)) if blocks[i]["type"] == "section"), len(blocks)
    )
    return json.dumps(blocks[start:end])


@pytest.mark.parametrize(
    "action",
    [
        ActionId.LOCATION_ACTIVATE,
        ActionId.LOCATION_DEACTIVATE,
        ActionId.LOCATION_PAUSE,
        ActionId.LOCATION_RESUME,
        ActionId.LOCATION_MIGRATE,
    ],
)
def test_location_buttons_refuse_viewers_and_other_workspaces(bot, action):
    with bot.database.session() as session:
        location = session.scalar(
            select(ExternalLocation).where(ExternalLocation.name == "Main room")
        )
        before = (location.active, location.automatic_transfer)
    bot.send.block_action(action, str(location.id), user=VIEWER)
    reply(bot, "you need to be an admin of Trattoria Esempio")
    bot.send.block_action(action, str(location.id), user=OTHER_ADMIN, team=OTHER_TEAM)
    reply(bot, "does not belong to Osteria Altra")
    bot.send.block_action(action, "../../etc", user=ADMIN)
    reply(bot, "not one Stockpot made")
    with bot.database.session() as session:
        after = session.get_one(ExternalLocation, location.id)
        assert (after.active, after.automatic_transfer) == before
    assert not [c for c in bot.slack.calls if c.method == "chat.postMessage"]


def test_a_csv_location_named_exactly_to_transfer_says_why_not_and_what_to_do(bot):
    """``/transfer <day> Main room`` for a location whose days come from CSV files is
    refused with the reason and the way its days get in, never "did you mean Main room?";
    nothing is queued. A typo still gets its suggestion, of a location with a POS only."""
    bot.send.command("/transfer", "2026-11-27 Main room", user=ADMIN)
    answer = texts(reply(bot, "CSV files"))
    assert "did you mean" not in answer
    assert "Main room gets its sales from the CSV files of Till export, not" in answer
    assert "stockpot csv import FILE --connection Till export" in answer
    bot.send.command("/transfer", "2026-11-27 Main rom", user=ADMIN)
    typo = texts(reply(bot, "Main rom"))
    assert "did you mean Main room" not in typo
    with bot.database.session() as session:
        assert session.scalar(select(Job.id).where(Job.kind == JobKind.TRANSFER)) is None
