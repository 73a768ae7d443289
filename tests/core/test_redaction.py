"""Log records are redacted as they are made, whichever handler gets them."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote, quote_plus, urlencode

import pytest

from stockpot.core import redaction


def test_tokens_passwords_and_bearers_are_redacted_from_every_record(caplog):
    redaction.install()
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("slack_sdk.web.base_client")
    log.debug('body: {"ok": true, "access_token": "%s", "team": "T1"}', "xoxb-123-456-abc")
    log.debug("headers: %s", {"Authorization": "Bearer abcdefghijklmnop"})
    logging.getLogger("x").info("sign in with password=hunter2&user=a, refresh_token: r-123")
    text = caplog.text
    for secret in ("xoxb-123-456-abc", "abcdefghijklmnop", "hunter2", "r-123"):
        assert secret not in text
    assert '"team": "T1"' in text and "user=a" in text, "the rest of the message stays"


def test_redact_leaves_ordinary_text_alone():
    assert redaction.redact("transfer of 2026-11-27: 12 lines") == (
        "transfer of 2026-11-27: 12 lines"
    )


SECRET = "s3cr et!p@ss"
SIGN_IN = {
    "type": "view_submission",
    "view": {
        "state": {
            "values": {
                "sides_password_block": {
                    "sides_password": {"type": "plain_text_input", "value": SECRET}
                },
                "sides_username_block": {
                    "sides_username": {"type": "plain_text_input", "value": "alice"}
                },
            }
        }
    },
}


@pytest.mark.parametrize(
    "shape",
    [
        lambda text: text,
        lambda text: urlencode({"payload": text}),
        quote,
        lambda text: json.dumps({"body": text}),
        lambda text: json.dumps(json.dumps({"body": text})),
    ],
    ids=["json", "form", "url-encoded", "json-escaped", "escaped-twice"],
)
def test_a_secret_is_redacted_in_any_encoding(shape):
    for document in (
        SIGN_IN,
        {"password": SECRET, "user": "alice"},
        {"refresh_token": SECRET, "user": "alice"},
    ):
        redacted = redaction.redact(shape(json.dumps(document)))
        for form in (SECRET, quote(SECRET), quote_plus(SECRET), "s3cr"):
            assert form not in redacted
        assert "alice" in redacted, "the rest stays readable"


def test_form_and_query_secrets_are_redacted_also_inside_json():
    query = urlencode(
        {"grant_type": "refresh_token", "refresh_token": "r-99", "code": "c1", "password": SECRET}
    )
    redacted = redaction.redact(json.dumps({"url": f"https://pos.test/token?{query}"}))
    assert "r-99" not in redacted and "s3cr" not in redacted and "c1" not in redacted
    assert "grant_type=refresh_token" in redacted, "the rest stays readable"


@pytest.mark.parametrize(
    "echoed",
    [
        "authorization: Basic ZGV2cC12MjpzM2NyZXQ=",
        '{"Authorization": "Basic ZGV2cC12MjpzM2NyZXQ="}',
        "{'authorization': 'Digest ZGV2cC12MjpzM2NyZXQ='}",
    ],
)
def test_the_credentials_of_an_authorization_header_are_redacted_whatever_the_scheme(echoed):
    redacted = redaction.redact(echoed)
    assert "ZGV2cC12" not in redacted and "[redacted]" in redacted


def test_words_like_the_secrets_names_stay():
    text = "basic ingredients; the authorization was refused; error code=42 (code 7)"
    assert redaction.redact(text) == text
