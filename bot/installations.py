"""Multi-workspace installs: slack_sdk's SQLAlchemy stores on Stockpot's own tables, with every
token encrypted at rest."""

from __future__ import annotations

import copy
import logging
import threading
from datetime import UTC, datetime
from typing import Any

from slack_bolt import BoltContext, BoltRequest, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.oauth.callback_options import FailureArgs
from slack_bolt.oauth.oauth_flow import OAuthFlow
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, and_

from stockpot.bot.errors import ANSWER_TIMEOUT_SECONDS
from stockpot.core.crypto import SecretBox
from stockpot.core.models.slack_install import slack_bots, slack_installations, slack_oauth_states
from stockpot.core.secret_rotation import SLACK_TOKENS

log = logging.getLogger(__name__)

TOKENS = SLACK_TOKENS

STATE_SECONDS = 600


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    def __init__(self, client_id: str, engine: Engine, box: SecretBox) -> None:
        super().__init__(client_id=client_id, engine=engine)
        self.metadata = slack_installations.metadata
        self.installations = slack_installations
        self.bots = slack_bots
        self._box = box
        self._saving = threading.local()

    def _sealed(self, entity: Any) -> Any:
        sealed = copy.copy(entity)
        for name in TOKENS:
            value = getattr(sealed, name, None)
            if value:
                setattr(sealed, name, self._box.encrypt_text(value))
        return sealed

    def _opened(self, entity: Any) -> Any:
        if entity is None:
            return None
        for name in TOKENS:
            value = getattr(entity, name, None)
            if value:
                setattr(entity, name, self._box.decrypt_text(value))
        return entity

    def save(self, installation: Installation) -> None:
        # The parent saves the installation's bot too, from the already sealed copy.
        self._saving.active = True
        try:
            super().save(self._sealed(installation))
        finally:
            self._saving.active = False

    def save_bot(self, bot: Bot) -> None:
        sealed = getattr(self._saving, "active", False)
        super().save_bot(bot if sealed else self._sealed(bot))

    def find_bot(self, **kwargs: Any) -> Bot | None:
        return self._opened(super().find_bot(**kwargs))

    def find_installation(self, **kwargs: Any) -> Installation | None:
        return self._opened(super().find_installation(**kwargs))

    def forget_bot_tokens(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Slack revoked the workspace's bot tokens: delete its bots, and the bot token each
        of its installations keeps too (slack_sdk's ``delete_bot`` leaves those); who
        installed the app stays known."""
        self.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        table = self.installations
        with self.engine.begin() as connection:
            connection.execute(
                table.update()
                .where(
                    and_(
                        table.c.client_id == self.client_id,
                        table.c.enterprise_id == enterprise_id,
                        table.c.team_id == team_id,
                    )
                )
                .values(bot_token=None, bot_refresh_token=None, bot_token_expires_at=None)
            )


class StoredBotAuthorize(Authorize):
    """Who a request of an installed workspace acts as: its bot as the install stored it,
    or ``None`` (the workspace is asked to reinstall). Bolt's own authorization also called
    Slack's ``auth.test`` for every request, on the request thread before the ack: a slow or
    rate-limited Slack held acks past Slack's three seconds. A token revoked meanwhile is
    refused by Slack at its first use, and ``tokens_revoked`` deletes it."""

    def __init__(self, store: EncryptedInstallationStore) -> None:
        self.store = store

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **_: Any,
    ) -> AuthorizeResult | None:
        bot = self.store.find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=context.is_enterprise_install,
        )
        if bot is None:
            return None
        return AuthorizeResult(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            bot_user_id=bot.bot_user_id,
            bot_id=bot.bot_id,
            bot_token=bot.bot_token,
            bot_scopes=bot.bot_scopes,
            user_id=user_id,
        )


class StateStore(SQLAlchemyOAuthStateStore):
    def __init__(self, engine: Engine) -> None:
        super().__init__(expiration_seconds=STATE_SECONDS, engine=engine)
        self.metadata = slack_oauth_states.metadata
        self.oauth_states = slack_oauth_states

    def issue(self, *args: Any, **kwargs: Any) -> str:
        """A new state, after forgetting the expired ones: every visit of the public
        ``/slack/install`` page stores a state, and slack_sdk deletes one only when it is
        used, so anyone could grow the table without end by reloading the page."""
        now = normalize_datetime_for_db(datetime.now(tz=UTC))
        with self.engine.begin() as connection:
            connection.execute(
                self.oauth_states.delete().where(self.oauth_states.c.expire_at <= now)
            )
        return str(super().issue(*args, **kwargs))


INSTALL_TIMEOUT_SECONDS = ANSWER_TIMEOUT_SECONDS
"""oauth.v2.access (and the auth.test after it) run on the request thread of the install
redirect: like every call made on a request thread, they wait at most this long for Slack."""


class _SlackDidNotAnswer(Exception):
    pass


class BoundedOAuthFlow(OAuthFlow):
    """Bolt's OAuth flow, with a Slack client of its own that gives up after
    ``INSTALL_TIMEOUT_SECONDS`` (slack_sdk's default is 30 s per call, on a waitress
    thread), and a page that says so instead of a 500: the state is spent, so the page
    sends the person back to the install page. Nothing is stored."""

    def __init__(self, *, client: WebClient, settings: OAuthSettings) -> None:
        super().__init__(client=client, settings=settings)

    def run_installation(self, code: str) -> Installation | None:
        try:
            return super().run_installation(code)
        except (SlackClientError, OSError) as error:
            raise _SlackDidNotAnswer(type(error).__name__) from error

    def handle_callback(self, request: BoltRequest) -> BoltResponse:
        try:
            return super().handle_callback(request)
        except _SlackDidNotAnswer as error:
            log.warning(
                "an install did not finish: Slack did not answer oauth.v2.access within %s s (%s)",
                self.client.timeout,
                error,
            )
            return self.failure_handler(
                FailureArgs(
                    request=request,
                    reason="slack_did_not_answer_in_time",
                    suggested_status_code=504,
                    settings=self.settings,
                    default=self.default_callback_options,
                )
            )
