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
def manifest_command(path: str | None) -> None:
    """Print the Slack app manifest (slash commands, usage hints, scopes, events)."""
    from stockpot.bot.manifest import manifest_text  # the app's scopes: Slack loads here

    text = manifest_text()
    if path is None:
        click.echo(text, nl=False)
        return
    Path(path).write_text(text)
    click.echo(f"wrote {path}")


def register(main: click.Group) -> None:
    main.add_command(manifest_command)
