"""``stockpot demo``: everything on one machine, in a browser, with no accounts."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import click

from stockpot.core.errors import ConfigurationError


@click.command("demo")
@click.option("--port", default=8080, show_default=True, help="the page's port")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".stockpot-demo"),
    show_default=True,
    help="where the demo keeps its database; a second start reuses it",
)
@click.option(
    "--socket-mode",
    is_flag=True,
    help="the stand-in reaches the bot over Socket Mode (a WebSocket), as behind a firewall",
)
def demo(port: int, data_dir: Path, socket_mode: bool) -> None:
    """Run Stockpot against sandbox POS servers and a local Slack stand-in, and print the
    address of the page to open. Ctrl-C stops it."""
    if "LOG_LEVEL" not in os.environ:
        # A person runs the demo: only warnings and errors, not every migration and job.
        logging.getLogger().setLevel(logging.WARNING)
    # The whole bot and its sandboxes load here, when the demo runs, not for `--help`.
    from stockpot.bot.demo import Demo
    from stockpot.bot.serving import stop_on_signals

    running = Demo(data_dir=data_dir, port=port, socket_mode=socket_mode)
    try:
        try:
            url = running.start()
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            raise ConfigurationError(
                f"port {port} is in use (another demo?): stop it, or pick another with --port"
            ) from None
        # Before the address is printed (from then on a stop is graceful); and not
        # running.stop() in a handler of its own: that would set the Event wait() holds.
        stop_on_signals(running.stopping)
        over = " over Socket Mode" if socket_mode else ""
        click.echo(f"Stockpot demo{over}: open {url}  (data in {data_dir}; Ctrl-C stops)")
        running.wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()


def register(main: click.Group) -> None:
    main.add_command(demo)
