"""A POS whose error answer repeats the request it refuses (a debug page, a proxy's trace):
the bearer token, the client's Basic credentials, a refresh token or a password it echoes
reach no message Stockpot keeps or shows (the failed run, the error users read, the log)."""

from __future__ import annotations

import base64
import logging

import pytest
from sqlalchemy import select

from stockpot.core import redaction
from stockpot.core.models import TransferRun
from stockpot.core.pos import connections
from stockpot.core.pos.errors import PosAuthError, PosUnavailable
from stockpot.core.settings import Settings
from stockpot.sandbox.http import Fault
from stockpot.sandbox.lightspeed import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, GOLDEN_DATE
from stockpot.sandbox.sides import DEFAULT_PASSWORD
from tests.pos import authorize, connect
from tests.pos import transfer as transfer_day_of


def kept(database) -> str:
    with database.session() as session:
        return repr(session.scalars(select(TransferRun.errors)).all())


def assert_no_secret(secrets: set[str], *texts: str) -> None:
    assert secrets
    for secret in secrets:
        for text in texts:
            # A piece of one is one too: an answer cut to its first words may end in it.
            assert secret[:12] not in text


def test_an_api_answer_echoing_the_bearer_token(
    lightspeed_connected, settings, policy, lightspeed, caplog
):
    caplog.set_level(logging.DEBUG)
    lightspeed.faults.add(Fault.echoing(500), path="/sales-daily", times=10)
    with pytest.raises(PosUnavailable, match="HTTP 500") as caught:
        transfer_day_of(lightspeed_connected, settings, policy, GOLDEN_DATE)
    tokens = {token.removeprefix("lsk-sbx-at.") for token in lightspeed._access}
    assert_no_secret(tokens, str(caught.value), kept(lightspeed_connected), caplog.text)


def test_a_token_endpoint_echoing_the_client_credentials_and_refresh_token(
    lightspeed_connected, settings, policy, lightspeed, caplog
):
    caplog.set_level(logging.DEBUG)
    refresh = {token.removeprefix("lsk-sbx-rt.") for token in lightspeed._refresh}
    lightspeed.expire_access_tokens()
    lightspeed.faults.add(Fault.echoing(500), path="/token", times=10)
    with pytest.raises(PosUnavailable, match="sign-in is unavailable") as caught:
        transfer_day_of(lightspeed_connected, settings, policy, GOLDEN_DATE)
    basic = base64.b64encode(f"{DEFAULT_CLIENT_ID}:{DEFAULT_CLIENT_SECRET}".encode()).decode()
    secrets = {basic, DEFAULT_CLIENT_SECRET, *refresh}
    assert_no_secret(secrets, str(caught.value), kept(lightspeed_connected), caplog.text)


def test_a_sign_in_refused_with_the_password_echoed(database, settings, company, policy, sides):
    sides.faults.add(Fault.echoing(401), path="/auth/login")
    with pytest.raises(PosAuthError, match="refused the sign-in") as caught:
        connect(database, settings, company, policy)
    assert_no_secret({DEFAULT_PASSWORD}, str(caught.value))


def test_a_v1_code_exchange_logged_by_httpx_keeps_its_code_out_of_the_log(
    database, company, monkeypatch, settings, caplog
):
    """V1 sends the grant in the token request's query string, which httpx logs at DEBUG
    (``LOG_LEVEL=DEBUG``) as the request's URL."""
    redaction.install()
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("LIGHTSPEED_AUTH_VERSION", "v1")
    v1 = Settings()
    state, code = authorize(database, v1, company)
    connections.complete_lightspeed(database.factory, v1, state=state, code=code, cookie=None)
    assert "/oauth/token?" in caplog.text, "httpx logged the request's URL"
    assert code not in caplog.text
