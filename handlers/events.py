"""Events: the App Home, and uninstalls."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from stockpot.bot.blocks.home import HomeLocation, home_view, not_linked_view
from stockpot.core.access import NotAMember, WorkspaceNotLinked, actor_for
from stockpot.core.transfer.log import latest_day_run
from stockpot.core.unmapped import unmapped
from stockpot.handlers.context import reading, services

log = logging.getLogger(__name__)


def home(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    svc = services(context)
    try:
        with svc.factory() as session:
            who = actor_for(session, context.team_id or "", event["user"], None)
    except (WorkspaceNotLinked, NotAMember) as error:
        view = not_linked_view(str(error))
    else:
        with reading(context, who) as rows:
            linked = [(c.shown, c.status.value) for c in rows.connections()]
            places = []
            for location in rows.locations():
                last = latest_day_run(rows.session, location.id)
                places.append(
                    HomeLocation(
                        location.name,
                        location.active,
                        location.automatic_transfer.value,
                        f"{last.business_date} {(last.outcome or last.status).value}"
                        if last
                        else None,
                        from_csv=location.connection.provider.from_files,
                    )
                )
            unmapped_count = len(unmapped(rows.session, who.company_id))
        view = home_view(who.company, linked, places, unmapped_count)
    client.views_publish(user_id=event["user"], view=view)


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
        store.forget_bot_tokens(enterprise_id=context.enterprise_id, team_id=context.team_id)


def register(app: App) -> None:
    app.event("app_home_opened")(home)
    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(revoked)
