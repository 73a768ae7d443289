"""``stockpot sandbox``: the fake POS servers, and a fake Slack, to run Stockpot without
accounts."""

from __future__ import annotations

import secrets
import threading
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from stockpot.sandbox.slack import SlackStandIn

SANDBOX_TEAM, SANDBOX_USER, SANDBOX_CHANNEL = "TSANDBOX", "USANDBOX", "CSANDBOX"


@click.command("sandbox")
@click.option("--lightspeed-port", default=8081, show_default=True)
@click.option("--sides-port", default=8082, show_default=True)
@click.option("--seed", default=1, show_default=True, help="seed of the generated sales")
@click.option(
    "--slack-port",
    type=int,
    default=None,
    help="also a stand-in for Slack on this port: its page is a channel talking to your "
    "`stockpot serve` (see --events-url)",
)
@click.option(
    "--events-url",
    default="http://127.0.0.1:3000/slack/events",
    show_default=True,
    help="where the Slack stand-in sends commands, clicks and events",
)
def sandbox(
    lightspeed_port: int, sides_port: int, seed: int, slack_port: int | None, events_url: str
) -> None:
    """Run fake Lightspeed and SIDES servers on this machine until interrupted (and with
    --slack-port a fake Slack, to try `stockpot serve` and a worker without a workspace)."""
    from stockpot.bot.serving import stop_on_signals
    from stockpot.sandbox.lightspeed import (
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        LightspeedSandbox,
    )
    from stockpot.sandbox.sides import DEFAULT_PASSWORD, DEFAULT_USERNAME, SidesSandbox

    # Not an untimed wait for KeyboardInterrupt: a signal the kernel hands to a server's
    # thread never interrupted it, and the sandbox ran on after Ctrl-C (``stop_on_signals``);
    # set before anything says "Ctrl-C stops".
    stop = threading.Event()
    stop_on_signals(stop)
    lightspeed = LightspeedSandbox(seed=seed, plain_http_loopback=True).start(lightspeed_port)
    sides = SidesSandbox(seed=seed, retention_days=5000).start(sides_port)
    servers = [lightspeed, sides]
    exports = [
        f"LIGHTSPEED_API_URL={lightspeed.url}",
        f"LIGHTSPEED_AUTH_URL={lightspeed.url}",
        f"LIGHTSPEED_CLIENT_ID={DEFAULT_CLIENT_ID}",
        f"LIGHTSPEED_CLIENT_SECRET={DEFAULT_CLIENT_SECRET}",
        "LIGHTSPEED_REDIRECT_URI=http://127.0.0.1:3000/lightspeed/oauth/callback",
        f"SIDES_API_URL={sides.url}",
    ]
    page = None
    if slack_port is not None:
        slack, settings = _slack_stand_in(slack_port, events_url)
        servers.append(slack)
        exports += settings
        page = slack.url
    click.echo("Sandbox servers are running. Point Stockpot at them with:\n")
    for line in exports:
        click.echo(f"  export {line}")
    click.echo(f"\nSIDES sign-in: {DEFAULT_USERNAME} / {DEFAULT_PASSWORD}.")
    if page is not None:
        click.echo(
            f"Slack: open {page}/ (a channel, #stockpot, whose commands go to {events_url}); "
            "run `stockpot serve` and `stockpot worker` with the exports above, then "
            "`/pos setup` there."
        )
    click.echo("Ctrl-C stops.")
    try:
        stop.wait()
    finally:
        for server in servers:
            server.stop()


def _slack_stand_in(port: int, events_url: str) -> tuple[SlackStandIn, list[str]]:
    """Slack's stand-in with the app installed (a fresh bot token and signing secret: made
    up for this run, they open nothing real) and one admin in one channel."""
    from stockpot.bot.app import BOT_SCOPES
    from stockpot.bot.commands import COMMANDS
    from stockpot.sandbox.slack import SlackStandIn

    token, secret = f"xoxb-sandbox-{secrets.token_hex(8)}", secrets.token_hex(16)
    slack = SlackStandIn(team_id=SANDBOX_TEAM).start(port)
    slack.install(token, BOT_SCOPES)
    slack.add_user(SANDBOX_USER, "you", is_admin=True)
    slack.attach_bot(
        events_url,
        secret,
        user_id=SANDBOX_USER,
        channel_id=SANDBOX_CHANNEL,
        channel_name="stockpot",
        commands=COMMANDS,
    )
    exports = [
        f"SLACK_API_URL={slack.api_url}",
        f"SLACK_BOT_TOKEN={token}",
        f"SLACK_SIGNING_SECRET={secret}",
        "SLACK_FILE_HOSTS=127.0.0.1",
        "SLACK_RESPONSE_HOSTS=127.0.0.1",
    ]
    return slack, exports


def register(main: click.Group) -> None:
    main.add_command(sandbox)
