"""``stockpot check``: is this installation fit to run? Settings, the database and its schema,
whether workers can LISTEN for new jobs, Slack (``auth.test``, and the app token for Socket
Mode) and every connected POS, each with what is wrong and how to fix it; exit 1 when anything
is."""

from __future__ import annotations

import logging

import click
import psycopg
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from stockpot.bot.health import Check, database, server_settings
from stockpot.bot.slack_tokens import SLACK_FIXES
from stockpot.core.crypto import secret_box
from stockpot.core.db import make_engine, make_session_factory
from stockpot.core.errors import StockpotError
from stockpot.core.jobs.listen import (
    POOLED_FIX,
    listen_target,
    notifications_arrive,
    pooled_problem,
)
from stockpot.core.secret_rotation import undecryptable
from stockpot.core.settings import Settings, get_settings, settings_problem
from stockpot.core.words import plural


def settings_checks(settings: Settings) -> list[Check]:
    checks = []
    try:
        secret_box(settings)
        checks.append(Check("secret key", True, "STOCKPOT_SECRET_KEY holds a valid key"))
    except StockpotError as error:
        checks.append(Check("secret key", False, str(error), "set STOCKPOT_SECRET_KEY"))
    slack_ready = settings.slack.bot_token is not None or (
        settings.slack.client_id is not None and settings.slack.client_secret is not None
    )
    if not slack_ready or settings.slack.signing_secret is None:
        checks.append(
            Check(
                "slack settings",
                False,
                "Slack is not configured",
                "set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and "
                "SLACK_CLIENT_SECRET); see the README",
            )
        )
    if settings.lightspeed.redirect_uri:
        from stockpot.core.pos.lightspeed.oauth import redirect_refused

        try:
            redirect_refused(settings.lightspeed.redirect_uri)
        except StockpotError as error:
            checks.append(
                Check(
                    "lightspeed redirect",
                    False,
                    str(error),
                    "set LIGHTSPEED_REDIRECT_URI to https://<your Stockpot host>"
                    "/lightspeed/oauth/callback",
                )
            )
    if settings.slack.app_token is not None and not (
        settings.slack.app_token.get_secret_value().startswith("xapp-")
    ):
        checks.append(
            Check(
                "socket mode",
                False,
                "SLACK_APP_TOKEN is not an app-level token (xapp-…)",
                SLACK_FIXES["not_allowed_token_type"],
            )
        )
    return checks


def slack_checks(settings: Settings) -> list[Check]:
    if settings.slack.bot_token is None:
        return []
    # Slack (and the app with it) is imported by the command that asks it, not by `--help`.
    from slack_sdk.errors import SlackApiError, SlackClientError

    from stockpot.bot.app import slack_client

    client = slack_client(settings, logger=_library_lines())
    checks = []
    try:
        answer = client.auth_test()
        checks.append(
            Check("slack", True, f"bot {answer.get('user_id')} in workspace {answer.get('team')}")
        )
    except SlackApiError as error:
        code = str(error.response.get("error"))
        checks.append(
            Check("slack", False, f"auth.test answered {code}", SLACK_FIXES.get(code, ""))
        )
    except (SlackClientError, OSError) as error:
        checks.append(_unreachable("slack", settings, error))
    if settings.slack.app_token is not None:
        try:
            client.apps_connections_open(app_token=settings.slack.app_token.get_secret_value())
            checks.append(Check("socket mode", True, "the app token opens a connection"))
        except SlackApiError as error:
            code = str(error.response.get("error"))
            checks.append(
                Check(
                    "socket mode",
                    False,
                    f"apps.connections.open answered {code}",
                    SLACK_FIXES.get(code, "turn Socket Mode on in the app's settings"),
                )
            )
        except (SlackClientError, OSError) as error:
            checks.append(_unreachable("socket mode", settings, error))
    return checks


def _library_lines() -> logging.Logger:
    """Where slack_sdk logs the check's calls: nowhere unless LOG_LEVEL=DEBUG. Its lines
    about a failed call ("ERROR … Failed to send a request to Slack API server", then its
    retries) came above the check's answer, reading like a crash; the answer says it once,
    with the fix."""
    lines = logging.getLogger(f"{__name__}.slack_sdk")
    lines.disabled = logging.getLogger().getEffectiveLevel() > logging.DEBUG
    return lines


def _unreachable(name: str, settings: Settings, error: Exception) -> Check:
    """Slack's Web API did not answer: a refused or failed connection comes as urllib's
    ``URLError`` (an ``OSError``), not as a ``SlackClientError``."""
    reason = getattr(error, "reason", None) or error
    return Check(
        name,
        False,
        f"Slack cannot be reached at {settings.slack.api_url}: {reason}",
        "check SLACK_API_URL and this machine's network",
    )


def listen_checks(settings: Settings) -> list[Check]:
    """Whether a NOTIFY reaches the workers' LISTEN (the probe each worker runs at start);
    nothing to check when they only poll."""
    target = listen_target(settings, make_url(settings.database.url))
    if target is None:
        return []
    name = "job wake-ups"
    try:
        arrive = notifications_arrive(target.url)
    except psycopg.Error as error:  # unreachable, refused
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    except (ValueError, ArgumentError):  # not echoed: its password may show in the wrong part
        reason = "it does not read as a PostgreSQL URL (postgresql://user:password@host:port/db)"
    else:
        reason = None
    if reason is not None:
        return [
            Check(
                name,
                False,
                f"workers cannot LISTEN on {target.setting}: {reason}",
                f"check {target.setting}, that the server runs and accepts this user",
            )
        ]
    if arrive:
        return [Check(name, True, f"a NOTIFY reaches a LISTEN on {target.setting}")]
    return [Check(name, False, pooled_problem(target.setting), POOLED_FIX)]


def stored_secret_checks(settings: Settings, factory: sessionmaker[Session]) -> list[Check]:
    """Every stored secret decrypts with ``STOCKPOT_SECRET_KEY``: said "can be decrypted"
    from the key alone before, also for a database restored under another key."""
    try:
        box = secret_box(settings)
    except StockpotError:
        return []  # the secret key's own check says why
    found = undecryptable(factory, box)
    if not found.refused:
        said = f"{plural(found.values, 'stored secret')}, each decrypts with STOCKPOT_SECRET_KEY"
        return [Check("stored secrets", True, said if found.values else "none stored yet")]
    named = ", ".join(found.refused[:3]) + (", …" if len(found.refused) > 3 else "")
    return [
        Check(
            "stored secrets",
            False,
            f"{len(found.refused)} of {plural(found.values, 'stored secret')} cannot be "
            f"decrypted with any key of STOCKPOT_SECRET_KEY ({named})",
            "give the key they were encrypted with, after the current one "
            "(STOCKPOT_SECRET_KEY=new,old), or connect those POS and workspaces again",
        )
    ]


def pos_checks(settings: Settings, factory: sessionmaker[Session]) -> list[Check]:
    from stockpot.core.pos import connections

    checks = []
    for connection_id, company, label in connections.pos_connections(factory):
        name = f"{company}: {label}"
        try:
            detail = connections.test_connection(factory, settings, connection_id)
            checks.append(Check(name, True, detail))
        except StockpotError as error:
            checks.append(
                Check(name, False, str(error), f"`stockpot pos test --company '{company}'`")
            )
    return checks


@click.command("check")
def check_command() -> None:
    """Check settings, database, Slack and every connected POS; exit 1 on any problem."""
    try:
        settings = get_settings()
    except ValidationError as error:
        click.echo(f"✗ settings: {settings_problem(error)}", err=True)
        raise SystemExit(1) from None
    checks = settings_checks(settings)
    engine = make_engine(settings.database.url)
    try:
        found = database(engine)
        checks += found
        checks += slack_checks(settings)
        if all(check.ok for check in found):
            checks += server_settings(engine)
            checks += listen_checks(settings)
            factory = make_session_factory(engine)
            checks += stored_secret_checks(settings, factory)
            checks += pos_checks(settings, factory)
    finally:
        engine.dispose()
    for check in checks:
        mark = "✓" if check.ok else "!" if check.warning else "✗"
        line = f"{mark} {check.name}: {check.detail}"
        click.echo(line if check.ok else f"{line}\n    fix: {check.fix}")
    problems = sum(not check.ok and not check.warning for check in checks)
    warnings = sum(check.warning for check in checks)
    if problems:
        click.echo(plural(problems, "problem"), err=True)
        raise SystemExit(1)
    click.echo("everything answers" + (f" ({plural(warnings, 'warning')})" if warnings else ""))


def register(main: click.Group) -> None:
    main.add_command(check_command)
