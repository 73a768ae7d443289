"""Secrets never reach a log: every log record is redacted as it is made.

Libraries log more than we choose: slack_sdk at DEBUG prints the body of ``oauth.v2.access``
(a bot token), HTTP clients print request lines. A record factory sees every record of every
logger before any handler does, so whatever handler is attached (ours, a test's, a log
shipper's) only ever gets the redacted text.
"""

from __future__ import annotations

import logging
import re
from typing import Any

PATTERNS = (
    (re.compile(r"xox[a-z]-[A-Za-z0-9-]+"), "xox…[redacted]"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1[redacted]"),
    (
        re.compile(
            r"(?i)([\"']?(?:access_token|refresh_token|bot_token|user_token|id_token|"
            r"client_secret|signing_secret|password|secret_key)[\"']?\s*[:=]\s*[\"']?)"
            r"[^\"'&,\s}]+"
        ),
        r"\1[redacted]",
    ),
)

_installed = False


def redact(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def install() -> None:
    """Redact every log record from now on (idempotent)."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def redacting(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    logging.setLogRecordFactory(redacting)
    _installed = True
