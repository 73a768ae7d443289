"""Encryption of stored secrets (POS passwords, OAuth tokens) with Fernet.

``STOCKPOT_SECRET_KEY`` holds one or more Fernet keys, comma-separated, newest first, so a
key can be rotated: new secrets use the first, old ones still decrypt with the others.
Outside production, a missing key is generated once and kept in the data directory (mode
0600) so a local setup works with no configuration; production refuses to start without one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from stockpot.core.errors import ConfigurationError
from stockpot.core.settings import Settings

log = logging.getLogger(__name__)

KEY_FILE = "secret.key"


class SecretBox:
    def __init__(self, keys: list[str]) -> None:
        self._signing_keys = [
            hashlib.sha256(b"stockpot-signing:" + key.strip().encode()).digest() for key in keys
        ]
        try:
            fernets = [Fernet(key.strip().encode()) for key in keys]
            self._newest = fernets[0]
            self._fernet = MultiFernet(fernets)
        except ValueError:
            raise ConfigurationError(
                "STOCKPOT_SECRET_KEY is not a valid Fernet key (32 url-safe base64 bytes); "
                "generate one with `stockpot secret generate`"
            ) from None

    def encrypt(self, secret: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(secret).encode()).decode()

    def decrypt(self, token: str) -> dict[str, Any]:
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise ConfigurationError(
                "a stored secret cannot be decrypted with STOCKPOT_SECRET_KEY; was the key "
                "changed without keeping the old one after it?"
            ) from None

    def encrypt_text(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt_text(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigurationError(
                "a stored Slack token cannot be decrypted with STOCKPOT_SECRET_KEY"
            ) from None

    def decrypts(self, token: str) -> bool:
        """Whether any key decrypts ``token``."""
        try:
            self._fernet.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def is_current(self, token: str) -> bool:
        """Whether ``token`` is encrypted under the newest key (nothing to rotate)."""
        try:
            self._newest.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, token: str) -> str:
        """``token`` re-encrypted under the newest key (any of the keys decrypts it)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise ConfigurationError(
                "a stored secret cannot be decrypted with any key of STOCKPOT_SECRET_KEY"
            ) from None

    def sign(self, text: str) -> str:
        """An HMAC-SHA256 of ``text`` with the newest key (for values handed to a browser)."""
        return hmac.new(self._signing_keys[0], text.encode(), hashlib.sha256).hexdigest()

    def verify(self, text: str, signature: str) -> bool:
        return any(
            hmac.compare_digest(hmac.new(key, text.encode(), hashlib.sha256).hexdigest(), signature)
            for key in self._signing_keys
        )


def generate_key() -> str:
    return Fernet.generate_key().decode()


def secret_box(settings: Settings) -> SecretBox:
    if settings.secret_key is not None:
        keys = [k for k in settings.secret_key.get_secret_value().split(",") if k.strip()]
        return SecretBox(keys)
    if settings.is_production:
        raise ConfigurationError(
            "STOCKPOT_SECRET_KEY is required in production (it encrypts POS credentials); "
            "generate one with `stockpot secret generate` and keep it safe"
        )
    return SecretBox([_local_key(settings.data_dir)])


def _local_key(data_dir: Path) -> str:
    path = data_dir / KEY_FILE
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    log.warning("no STOCKPOT_SECRET_KEY set: generated a development key in %s", path)
    return key
