"""``stockpot sandbox``: the fake Lightspeed and SIDES servers, for trying Stockpot out."""

from __future__ import annotations

import threading

import click


@click.command("sandbox")
@click.option("--lightspeed-port", default=8081, show_default=True)
@click.option("--sides-port", default=8082, show_default=True)
@click.option("--seed", default=1, show_default=True, help="seed of the generated sales")
def sandbox(lightspeed_port: int, sides_port: int, seed: int) -> None:
    """Run fake Lightspeed and SIDES servers on this machine until interrupted."""
    from stockpot.sandbox.lightspeed import (
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        LightspeedSandbox,
    )
    from stockpot.sandbox.sides import DEFAULT_PASSWORD, DEFAULT_USERNAME, SidesSandbox

    lightspeed = LightspeedSandbox(seed=seed, plain_http_loopback=True).start(lightspeed_port)
    sides = SidesSandbox(seed=seed, retention_days=5000).start(sides_port)
    click.echo("Sandbox POS servers are running. Point Stockpot at them with:\n")
    click.echo(f"  export LIGHTSPEED_API_URL={lightspeed.url}")
    click.echo(f"  export LIGHTSPEED_AUTH_URL={lightspeed.url}")
    click.echo(f"  export LIGHTSPEED_CLIENT_ID={DEFAULT_CLIENT_ID}")
    click.echo(f"  export LIGHTSPEED_CLIENT_SECRET={DEFAULT_CLIENT_SECRET}")
    click.echo("  export LIGHTSPEED_REDIRECT_URI=http://127.0.0.1:3000/lightspeed/oauth/callback")
    click.echo(f"  export SIDES_API_URL={sides.url}")
    click.echo(f"\nSIDES sign-in: {DEFAULT_USERNAME} / {DEFAULT_PASSWORD}. Ctrl-C stops.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        lightspeed.stop()
        sides.stop()


def register(main: click.Group) -> None:
    main.add_command(sandbox)
