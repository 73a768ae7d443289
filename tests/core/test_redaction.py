"""Log records are redacted as they are made, whichever handler gets them."""

from __future__ import annotations

import logging

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
