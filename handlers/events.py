"""Events: the App Home, and uninstalls."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from sqlalchemy import select

from bot.blocks.common import context as context_block
from bot.blocks.common import header, section
from core.access import WorkspaceNotLinked, actor_for
from core.models import Connection, ExternalLocation
from handlers.context import services

log = logging.getLogger(__name__)


def home(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    svc = services(context)
    with svc.factory() as session:
        try:
            who = actor_for(session, context.team_id or "", event["user"], None)
        except WorkspaceNotLinked as error:
            blocks = [header("Stockpot"), section(str(error))]
        else:
            connected = session.scalars(
                select(Connection).where(Connection.company_id == who.company_id)
            ).all()
            located = session.scalars(
                select(ExternalLocation).where(ExternalLocation.company_id == who.company_id)
            ).all()
            blocks = [
                header(f"Stockpot for {who.company}"),
                section(
                    "*Connections*\n"
                    + ("\n".join(f"{c.label}: {c.status.value}" for c in connected) or "none yet")
                ),
                section(
                    "*Locations*\n"
                    + (
                        "\n".join(
                            f"{loc.name}: {'active' if loc.active else 'inactive'}"
                            for loc in located[:40]
                        )
                        or "none yet"
                    )
                ),
                context_block("`/pos help` · `/transfer help` · `/ledger help`"),
            ]
    client.views_publish(user_id=event["user"], view={"type": "home", "blocks": blocks})


def uninstalled(context: BoltContext) -> None:
    """Forget the workspace's tokens; its companies, ledgers and members stay."""
    log.info("Stockpot was removed from workspace %s", context.team_id)
    store = services(context).installations
    if store is not None:
        store.delete_all(enterprise_id=context.enterprise_id, team_id=context.team_id)


def revoked(event: dict[str, Any], context: BoltContext) -> None:
    log.info("tokens revoked in workspace %s", context.team_id)
    store = services(context).installations
    if store is not None and (event.get("tokens") or {}).get("bot"):
        store.delete_bot(enterprise_id=context.enterprise_id, team_id=context.team_id)


def register(app: App) -> None:
    app.event("app_home_opened")(home)
    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(revoked)
