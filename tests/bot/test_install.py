"""Multi-workspace mode: a workspace installs the app through Slack's OAuth, its token is
stored encrypted, its requests are authorized from the store, and uninstalling forgets it."""

from __future__ import annotations

import logging
import re
import threading
from datetime import date, timedelta
from decimal import Decimal

import httpx
from slack_bolt import BoltContext
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, func, select, update

from stockpot.bot.app import BOT_SCOPES
from stockpot.bot.installations import EncryptedInstallationStore
from stockpot.core.crypto import secret_box
from stockpot.core.db import unit_of_work
from stockpot.core.jobs import specs
from stockpot.core.jobs.queue import enqueue
from stockpot.core.jobs.runtime import JobRuntime
from stockpot.core.mapping import import_mappings
from stockpot.core.models import Company, ExternalLocation, Job, JobState
from stockpot.core.models.slack_install import slack_bots, slack_installations, slack_oauth_states
from stockpot.core.transfer.lines import RawInput, SaleLine
from stockpot.core.transfer.runner import run_transfer
from stockpot.handlers.context import SERVICES, Services
from stockpot.handlers.events import revoked, uninstalled
from stockpot.sandbox.http import Fault
from tests.bot.conftest import ADMIN
from tests.bot.test_slack_app import posted, reply, texts
from tests.catalogs import TRATTORIA_MAPPINGS
from tests.pos import consented


def install(bot, *, timeout: float = 5, code: str = "c0de") -> httpx.Response:
    base = f"http://127.0.0.1:{bot.port}"
    with httpx.Client(timeout=timeout) as browser:
        page = browser.get(f"{base}/slack/install")
        assert page.status_code == 200
        link = re.search(r'href="([^"]*oauth/v2/authorize[^"]*)"', page.text).group(1)
        link = link.replace("&amp;", "&")
        assert link.startswith(f"{bot.slack.url}/oauth/v2/authorize?")
        state = re.search(r"state=([^&]+)", link).group(1)
        assert "client_id=111.222" in link and "files:read" in link
        # The state cookie is Secure; over plain loopback HTTP it is passed by hand, as a
        # browser passes it over HTTPS.
        cookie = page.headers["set-cookie"].split(";")[0]
        return browser.get(
            f"{base}/slack/oauth_redirect",
            params={"code": code, "state": state},
            headers={"Cookie": cookie},
        )


def test_an_install_stores_the_token_encrypted_and_authorizes_that_workspace(installable_bot):
    bot = installable_bot
    done = install(bot)
    assert done.status_code == 200
    assert [c.args.get("code") for c in bot.slack.calls if c.method == "oauth.v2.access"] == [
        "c0de"
    ]
    with bot.database.session() as session:
        stored = session.execute(select(slack_bots.c.team_id, slack_bots.c.bot_token)).all()
        dump = " ".join(str(v) for row in session.execute(select(slack_installations)) for v in row)
    assert [team for team, _ in stored] == ["T0003"]
    assert "xoxb-installed" not in stored[0][1] and "xoxb-installed" not in dump
    bot.send.command("/pos", "help", user="UINSTALLER", team="T0003")
    assert "/pos connect sides" in texts(reply(bot, "what it can do"))
    bot.send.command("/ledger", "balances", user="UINSTALLER", team="T0003")
    reply(bot, "not linked to a company yet")
    bot.send.command("/pos", "setup Bistro Nuovo", user="UINSTALLER", team="T0003")
    reply(bot, "now works for Bistro Nuovo, and you are its first admin")


def test_an_unknown_workspace_is_asked_to_install_and_uninstalling_forgets_the_tokens(
    installable_bot,
):
    bot = installable_bot
    answer = bot.send.command("/pos", "help", user="U1", team="T0404")
    assert answer.status_code == 200
    reply(bot, "reinstall this app")
    install(bot)
    store = EncryptedInstallationStore("111.222", bot.database.engine, secret_box(bot.settings))
    assert store.find_bot(enterprise_id=None, team_id="T0003").bot_token == "xoxb-installed-T0003"
    context = BoltContext(
        {
            "team_id": "T0003",
            "enterprise_id": None,
            SERVICES: Services(
                bot.database.factory,
                bot.settings,
                bot.work,
                JobRuntime(bot.database.factory),
                installations=store,
            ),
        }
    )
    uninstalled(context)
    assert store.find_bot(enterprise_id=None, team_id="T0003") is None
    with bot.database.session() as session:
        assert session.execute(select(slack_installations.c.id)).first() is None


def test_our_tables_have_every_column_slack_sdk_writes():
    theirs = MetaData()
    for ours, built in (
        (slack_installations, SQLAlchemyInstallationStore.build_installations_table(theirs, "i")),
        (slack_bots, SQLAlchemyInstallationStore.build_bots_table(theirs, "b")),
        (slack_oauth_states, SQLAlchemyOAuthStateStore.build_oauth_states_table(theirs, "s")),
    ):
        assert [c.name for c in ours.columns] == [c.name for c in built.columns]


def test_revoked_bot_tokens_are_forgotten(installable_bot):
    bot = installable_bot
    install(bot)
    store = EncryptedInstallationStore("111.222", bot.database.engine, secret_box(bot.settings))
    context = BoltContext(
        {
            "team_id": "T0003",
            "enterprise_id": None,
            SERVICES: Services(
                bot.database.factory,
                bot.settings,
                bot.work,
                JobRuntime(bot.database.factory),
                installations=store,
            ),
        }
    )
    revoked({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": []}}, context)
    assert store.find_bot(enterprise_id=None, team_id="T0003") is not None
    revoked({"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}}, context)
    assert store.find_bot(enterprise_id=None, team_id="T0003") is None


def test_an_install_slack_does_not_answer_ends_in_a_clear_page_not_a_held_thread(
    installable_bot,
):
    """oauth.v2.access runs on the redirect's request thread: a Slack that never answers it
    is given up after the bounded timeout (slack_sdk's default is 30 s, beyond this test's
    patience), the person gets a page sending them back to the install page, nothing is
    stored, and the next install works."""
    bot = installable_bot
    # The bound, shortened from INSTALL_TIMEOUT_SECONDS (5 s) for this test: what is
    # checked is that the call is given up, not how long Slack is waited for.
    bot.app.oauth_flow.client.timeout = 1
    release = threading.Event()
    bot.slack.faults.add(Fault(before=lambda: release.wait(60)), path="oauth.v2.access", times=1)
    try:
        page = install(bot, timeout=20)
    finally:
        release.set()
    assert page.status_code == 504
    assert "slack_did_not_answer_in_time" in page.text and 'href="/slack/install"' in page.text
    with bot.database.session() as session:
        assert session.execute(select(slack_bots.c.team_id)).all() == []
    assert install(bot, code="c0de-again").status_code == 200
    with bot.database.session() as session:
        assert session.execute(select(slack_bots.c.team_id)).all() == [("T0003",)]


def test_visits_of_the_install_page_do_not_grow_the_states_without_end(installable_bot):
    """Each visit of the public install page stores a state, and slack_sdk deletes one only
    when it is used: reloading the page grew the table for ever. Expired states are now
    forgotten when a new one is issued."""
    bot = installable_bot
    page = f"http://127.0.0.1:{bot.port}/slack/install"
    for _ in range(5):
        assert httpx.get(page).status_code == 200
    with bot.database.session() as session:
        assert session.scalar(select(func.count()).select_from(slack_oauth_states)) == 5
    with bot.database.factory.begin() as session:
        session.execute(
            update(slack_oauth_states).values(
                expire_at=slack_oauth_states.c.expire_at - timedelta(hours=1)
            )
        )
    assert httpx.get(page).status_code == 200
    with bot.database.session() as session:
        assert session.scalar(select(func.count()).select_from(slack_oauth_states)) == 1
    assert install(bot).status_code == 200, "a fresh state still installs"


def test_a_revoked_bot_token_is_forgotten_everywhere_and_the_workspace_asked_to_reinstall(
    installable_bot,
):
    """Slack's ``tokens_revoked`` event, delivered over HTTP: the bot rows were deleted but
    each installation row kept the revoked bot token (encrypted), and requests were still
    authorized from it. Now no row holds it, and the workspace's next command is answered
    with the way back (reinstall)."""
    bot = installable_bot
    install(bot)
    bot.slack.revoke("xoxb-installed-T0003")
    revoked_event = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}
    assert bot.send.event(revoked_event, team="T0003", event_id="EvRevoked").status_code == 200
    bot.drain()
    with bot.database.session() as session:
        assert session.execute(select(slack_bots.c.id)).all() == []
        kept = session.execute(
            select(slack_installations.c.user_id, slack_installations.c.bot_token)
        ).all()
    assert kept == [("UINSTALLER", None)], "who installed is kept, the revoked token is not"
    bot.send.command("/pos", "help", user="UINSTALLER", team="T0003")
    reply(bot, "reinstall this app")
    assert install(bot, code="c0de-again").status_code == 200
    bot.send.command("/pos", "help", user="UINSTALLER", team="T0003")
    assert "/pos connect sides" in texts(reply(bot, "what it can do"))


def test_requests_of_an_installed_workspace_are_acked_without_asking_slack(installable_bot):
    """Each command of an installed workspace made the web process call Slack's auth.test
    (Bolt's authorization, no cache) before its ack, on the request thread: a slow or
    rate-limited auth.test held the ack past Slack's three seconds. The stored installation
    says everything the request needs; Slack is not asked."""
    bot = installable_bot
    install(bot)
    asked = len([c for c in bot.slack.calls if c.method == "auth.test"])
    release = threading.Event()
    bot.slack.faults.add(Fault(before=lambda: release.wait(30)), path="auth.test", times=100)
    try:
        for _ in range(3):
            answer = bot.send.command("/pos", "help", user="UINSTALLER", team="T0003")
            assert answer.status_code == 200
        bot.drain()
    finally:
        release.set()
    helped = bot.slack.wait_for("response_url", 3, where=lambda c: "what it can do" in texts(c))
    assert len(helped) == 3
    assert len([c for c in bot.slack.calls if c.method == "auth.test"]) == asked


def test_an_installed_workspace_is_told_its_lightspeed_connection(installable_bot):
    """With workspaces installed through OAuth the bot has no token of its own: the word that
    Lightspeed is connected went to Slack with none (``not_authed``) and was lost. It goes with
    the workspace's own token; the page names the workspace as its install did."""
    bot = installable_bot
    install(bot)
    bot.send.command("/pos", "setup Bistro Nuovo", user="UINSTALLER", team="T0003")
    reply(bot, "now works for Bistro Nuovo")
    bot.send.command("/pos", "connect lightspeed", user="UINSTALLER", team="T0003")
    offer = reply(bot, "Connect Lightspeed")
    link = next(block["accessory"]["url"] for block in offer.args["blocks"] if "accessory" in block)
    with httpx.Client() as browser:
        page = browser.get(consented(browser, link))
    assert page.status_code == 200, page.text
    assert "Bistro Nuovo" in page.text and "Workspace T0003 (T0003)" in page.text
    told = bot.slack.wait_for(
        "chat.postMessage", where=lambda c: "Lightspeed is connected for Bistro Nuovo" in texts(c)
    )[0]
    assert "<@UINSTALLER>" in texts(told) and "Harbour Kitchen Group" in texts(told)


def _install_page(bot, browser: httpx.Client) -> tuple[str, str]:
    """The install page's state and its binding cookie (``name=value``)."""
    page = browser.get(f"http://127.0.0.1:{bot.port}/slack/install")
    link = re.search(r'href="([^"]*oauth/v2/authorize[^"]*)"', page.text).group(1)
    return re.search(r"state=([^&]+)", link).group(1), page.headers["set-cookie"].split(";")[0]


def test_an_install_redirect_without_its_own_state_and_cookie_installs_nothing(
    installable_bot, caplog
):
    """Missing, forged, replayed, expired, or from another browser: each is refused before
    Slack is asked for a token, nothing is stored, and the code is in no log line."""
    caplog.set_level(logging.DEBUG)
    bot = installable_bot
    redirect = f"http://127.0.0.1:{bot.port}/slack/oauth_redirect"
    with httpx.Client() as browser:
        state, cookie = _install_page(bot, browser)
        refused = [
            browser.get(redirect, params={"code": "c-none"}, headers={"Cookie": cookie}),
            browser.get(
                redirect, params={"code": "c-forged", "state": "f0rged"}, headers={"Cookie": cookie}
            ),
            browser.get(redirect, params={"code": "c-elsewhere", "state": state}),
        ]
        old_state, old_cookie = _install_page(bot, browser)
        with bot.database.factory.begin() as session:
            session.execute(
                update(slack_oauth_states)
                .where(slack_oauth_states.c.state == old_state)
                .values(expire_at=slack_oauth_states.c.expire_at - timedelta(hours=1))
            )
        refused.append(
            browser.get(
                redirect,
                params={"code": "c-expired", "state": old_state},
                headers={"Cookie": old_cookie},
            )
        )
        good, good_cookie = _install_page(bot, browser)
        done = browser.get(
            redirect, params={"code": "c0de", "state": good}, headers={"Cookie": good_cookie}
        )
        refused.append(
            browser.get(
                redirect,
                params={"code": "c-replay", "state": good},
                headers={"Cookie": good_cookie},
            )
        )
    assert done.status_code == 200
    assert all(answer.status_code in (400, 401) for answer in refused)
    exchanged = [c.args.get("code") for c in bot.slack.calls if c.method == "oauth.v2.access"]
    assert exchanged == ["c0de"]
    for code in ("c-none", "c-forged", "c-elsewhere", "c-expired", "c-replay"):
        assert code not in caplog.text


def test_after_an_uninstall_queued_work_is_done_quietly_and_a_reinstall_keeps_the_data(
    installable_bot, caplog
):
    """Work queued for a workspace that removed the app (its daily report) is done without
    calling Slack with the dead token, retrying or logging errors; reinstalled, the
    workspace is linked to its company as before."""
    bot = installable_bot
    install(bot)
    bot.send.command("/pos", "setup Bistro Nuovo", user="UINSTALLER", team="T0003")
    reply(bot, "now works for Bistro Nuovo")
    bot.send.command("/pos", "report here", user="UINSTALLER", team="T0003")
    posted(bot, "daily report")
    bot.drain()
    bot.slack.uninstall("T0003")
    event = {"type": "app_uninstalled"}
    assert bot.send.event(event, team="T0003", event_id="EvGone").status_code == 200
    bot.drain()
    with bot.database.session() as session:
        company_id = session.scalar(select(Company.id).where(Company.name == "Bistro Nuovo"))
    before = len(bot.slack.calls)
    with unit_of_work(bot.database.factory) as session:
        job_id = enqueue(session, specs.report(company_id, date(2026, 11, 30))).job_id
    caplog.clear()
    bot.drain()
    with bot.database.session() as session:
        job = session.get_one(Job, job_id)
    assert (job.state, job.attempts) == (JobState.SUCCEEDED, 1)
    assert bot.slack.calls[before:] == [], "nothing sent with a token Slack no longer takes"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert install(bot, code="c0de-again").status_code == 200
    bot.send.command("/ledger", "balances", user="UINSTALLER", team="T0003")
    reply(bot, "Bistro Nuovo")


def test_with_one_bot_token_an_uninstall_makes_each_refused_post_one_line_without_a_traceback(
    bot, caplog
):
    """``SLACK_BOT_TOKEN`` set, the workspace removed the app: the daily report (its message
    and its chart) is refused ``account_inactive``. The chart's upload logged its traceback;
    each refused call is one warning line naming the job and Slack's code, and no token."""
    import_mappings(bot.database.factory, TRATTORIA_MAPPINGS, source="mappings.yaml")
    bot.send.command("/pos", "report here", user=ADMIN)
    posted(bot, "daily report")
    bot.drain()
    with bot.database.session() as session:
        company_id = session.scalar(select(Company.id).where(Company.name == "Trattoria Esempio"))
        room = session.scalar(
            select(ExternalLocation.id).where(ExternalLocation.name == "Main room")
        )
    day = date(2026, 11, 27)
    lines = [SaleLine("S1", "1", "101", "Margherita", Decimal(4))]
    run_transfer(bot.database.factory, room, day, lines, RawInput("t", "[]"))
    bot.slack.uninstall()
    with unit_of_work(bot.database.factory) as session:
        job_id = enqueue(session, specs.report(company_id, day)).job_id
    caplog.clear()
    bot.drain()
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warned, "the refusals are said"
    for record in warned:
        said = record.getMessage()
        assert record.exc_info is None, said
        assert "account_inactive" in said and "xoxb" not in said, said
    uploads = [r.getMessage() for r in warned if r.getMessage().startswith("could not upload")]
    assert uploads and all(f"job {job_id}" in said for said in uploads), uploads


def test_a_job_post_refused_for_a_missing_scope_names_the_scope_and_the_fix_in_its_log_line(
    bot, caplog
):
    """Installed without ``chat:write``: a daily report's post is refused ``missing_scope``.
    Its log line said "Slack answered missing_scope" alone; it names the method, the scope
    and that the app is installed again to grant it, as a command's answer does."""
    bot.send.command("/pos", "report here", user=ADMIN)
    posted(bot, "daily report")
    bot.drain()
    bot.slack.install("xoxb-sandbox", [s for s in BOT_SCOPES if s != "chat:write"])
    with bot.database.session() as session:
        company_id = session.scalar(select(Company.id).where(Company.name == "Trattoria Esempio"))
    with unit_of_work(bot.database.factory) as session:
        job_id = enqueue(session, specs.report(company_id, date(2026, 11, 27))).job_id
    caplog.clear()
    bot.drain()
    (said,) = [r.getMessage() for r in caplog.records if f"of job {job_id}" in r.getMessage()]
    assert "chat.postMessage" in said and "chat:write" in said, said
    assert "reinstalls the app" in said, said
