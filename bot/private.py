"""An answer for one person: shown to them alone in the channel they asked from
(``chat.postEphemeral``) or, where Slack cannot show it there, in their DM with the app."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from stockpot.bot.blocks.common import context, message, section
from stockpot.bot.missing_scope import lacking

log = logging.getLogger(__name__)

NOT_SHOWN_THERE = frozenset(
    {"user_not_in_channel", "not_in_channel", "channel_not_found", "is_archived"}
)
"""``chat.postEphemeral``'s answers (its page on docs.slack.dev) when the message cannot be
shown in that channel, though the person can be told elsewhere: they are not in it (they left
after asking), the bot is not (``not_in_channel``; a private channel it is not in:
``channel_not_found``), or it was archived."""


def tell_privately(client: WebClient, channel: str, user: str, **shown: Any) -> bool:
    """Show ``shown`` (``text``, ``blocks``) to ``user`` alone in ``channel``; where Slack
    cannot show it there (``NOT_SHOWN_THERE``), in their DM with the app, saying why. Whether
    it reached them: a refusal is logged, never raised, since what it tells is done already
    (a crash here retried the listener, or told "something went wrong" about work that went
    right). A connection that fails is raised, as any call's."""
    try:
        client.chat_postEphemeral(channel=channel, user=user, **shown)
        return True
    except SlackApiError as error:
        code = str(error.response.get("error"))
        if code not in NOT_SHOWN_THERE:
            _not_told(user, channel, error)
            return False
    note = (
        f"Stockpot could not show you this in <#{channel}> (Slack answered `{code}`: you or "
        "Stockpot are not in that channel, or it is archived), so it comes here."
    )
    text = str(shown.get("text") or "")
    blocks = list(shown.get("blocks") or [section(text)])  # blocks shown, text the fallback
    moved = message(text, [*blocks, context(note)])
    try:
        client.chat_postMessage(channel=user, **moved)
    except SlackApiError as error:
        _not_told(user, f"{channel} nor in their DM", error)
        return False
    log.info("answered %s in their DM: Slack answered %s in %s", user, code, channel)
    return True


def _not_told(user: str, where: str, error: SlackApiError) -> None:
    code = error.response.get("error")
    log.warning(
        "could not show %s an answer in %s: Slack answered %s", user, where, lacking(error) or code
    )
