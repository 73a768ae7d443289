"""Multi-workspace installs: slack_sdk's SQLAlchemy stores on Stockpot's own tables, with every
token encrypted at rest."""

from __future__ import annotations

import copy
import threading
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine

from stockpot.core.crypto import SecretBox
from stockpot.core.models.slack_install import slack_bots, slack_installations, slack_oauth_states
from stockpot.core.secret_rotation import SLACK_TOKENS

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


class StateStore(SQLAlchemyOAuthStateStore):
    def __init__(self, engine: Engine) -> None:
        super().__init__(expiration_seconds=STATE_SECONDS, engine=engine)
        self.metadata = slack_oauth_states.metadata
        self.oauth_states = slack_oauth_states
