import stat

import pytest

from stockpot.core.crypto import KEY_FILE, generate_key, secret_box
from stockpot.core.errors import ConfigurationError
from stockpot.core.settings import Settings


def test_secrets_round_trip_and_are_not_plain_text(monkeypatch):
    monkeypatch.setenv("STOCKPOT_SECRET_KEY", generate_key())
    box = secret_box(Settings())
    token = box.encrypt({"password": "hunter2"})
    assert "hunter2" not in token
    assert box.decrypt(token) == {"password": "hunter2"}


def test_keys_rotate_new_first_old_still_decrypts(monkeypatch):
    old, new = generate_key(), generate_key()
    monkeypatch.setenv("STOCKPOT_SECRET_KEY", old)
    token = secret_box(Settings()).encrypt({"token": "t"})
    monkeypatch.setenv("STOCKPOT_SECRET_KEY", f"{new},{old}")
    assert secret_box(Settings()).decrypt(token) == {"token": "t"}
    monkeypatch.setenv("STOCKPOT_SECRET_KEY", new)
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        secret_box(Settings()).decrypt(token)


def test_production_refuses_to_run_without_a_key(monkeypatch):
    monkeypatch.setenv("STOCKPOT_ENV", "production")
    with pytest.raises(ConfigurationError, match="STOCKPOT_SECRET_KEY is required in production"):
        secret_box(Settings())


def test_a_bad_key_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("STOCKPOT_SECRET_KEY", "not-a-key")
    with pytest.raises(ConfigurationError, match="not a valid Fernet key"):
        secret_box(Settings())


def test_development_generates_one_private_key_and_keeps_it(tmp_path):
    settings = Settings()
    token = secret_box(settings).encrypt({"a": 1})
    key_file = settings.data_dir / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert secret_box(Settings()).decrypt(token) == {"a": 1}
