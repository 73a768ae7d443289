"""``stockpot manifest``: the Slack app manifest, generated from the command table."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("manifest")
@click.option(
    "--write",
    "path",
    flag_value="app_manifest.yml",
    default=None,
    help="write it to app_manifest.yml (in the current folder) instead of printing it",
)
@click.option(
    "--url",
    default=None,
    metavar="https://HOST",
    help="the HTTPS address `stockpot serve` answers on, in place of https://stockpot.example.com",
)
@click.option(
    "--socket-mode",
    is_flag=True,
    help="for Socket Mode: no request urls (set SLACK_APP_TOKEN, scope connections:write)",
)
def manifest_command(path: str | None, url: str | None, socket_mode: bool) -> None:
    """Print the Slack app manifest (slash commands, usage hints, scopes, events)."""
    from stockpot.bot.manifest import (  # the app's scopes: Slack loads here
        PUBLIC_URL,
        ManifestAddressRefused,
        manifest_text,
        public_url,
    )

    if url is not None and socket_mode:
        raise click.UsageError("--url or --socket-mode: Socket Mode uses no address")
    try:
        address = PUBLIC_URL if url is None else public_url(url)
    except ManifestAddressRefused as error:
        raise click.BadParameter(str(error), param_hint="--url") from None
    text = manifest_text(address, socket_mode=socket_mode)
    if path is None:
        click.echo(text, nl=False)
        return
    Path(path).write_text(text)
    click.echo(f"wrote {path}")


def register(main: click.Group) -> None:
    main.add_command(manifest_command)
