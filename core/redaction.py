"""Secrets never reach a log: every log record is redacted as it is made (and ``redact`` cleans
what a POS's error answer says before it becomes a message anyone keeps).

Libraries log more than we choose: slack_sdk at DEBUG prints the body of ``oauth.v2.access``
(a bot token), HTTP clients print request lines. A record factory sees every record of every
logger before any handler does, so whatever handler is attached (ours, a test's, a log
shipper's) only ever gets the redacted text.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_KEY = (
    r"(?:access_token|refresh_token|bot_token|user_token|id_token|client_secret|"
    r"signing_secret|password|secret_key)"
)
_QUOTE = r"(?:\\*\"|\\*'|%5C%22|%22|%27|&quot;)"
"""A quote as it appears in text, JSON-escaped (``\\"``) or URL-encoded (``%22``)."""
_SEP = r"(?:\s|%20|\+)*(?::|=|%3A|%3D)(?:\s|%20|\+)*"
"""``:`` or ``=``, plain or URL-encoded, with any spaces around."""
_QUOTED = rf"(?:(?!{_QUOTE}).)+"
_BARE = r"(?:(?!%22|%26|%2C|%5C|%7B|%7D|&quot;)[^\"'\\&,\s{}])+"
_INPUT = rf"{_KEY}\w*{_QUOTE}?{_SEP}(?:\{{|%7B)(?:(?!%7D|\}}).)*?value{_QUOTE}?{_SEP}{_QUOTE}"
"""A Slack form input named for a secret: ``"sides_password": {"type": …, "value": "…"}``."""

PATTERNS = (
    (re.compile(r"xox[a-z]-[A-Za-z0-9-]+"), "xox…[redacted]"),
    (re.compile(r"(?i)(bearer(?:\s|%20|\+)+)[A-Za-z0-9._~+/=-]{8,}"), r"\1[redacted]"),
    (
        re.compile(
            rf"(?i)(authorization{_QUOTE}?{_SEP}{_QUOTE}?\w+(?:\s|%20|\+)+)(?!\[redacted)[^\s\"'&,;\]]+"
        ),
        r"\1[redacted]",
    ),
    (re.compile(r"([?&]code=)[^&#\s\"']+"), r"\1[redacted]"),
    (re.compile(r"(['\"]code['\"]:\s*\[\s*['\"])[^'\"]+"), r"\1[redacted]"),
    (re.compile(rf"(?i)({_INPUT}){_QUOTED}"), r"\1[redacted]"),
    (re.compile(rf"(?i)({_KEY}{_QUOTE}?{_SEP}{_QUOTE}){_QUOTED}"), r"\1[redacted]"),
    (re.compile(rf"(?i)({_KEY}{_QUOTE}?{_SEP})(?!{_QUOTE}){_BARE}"), r"\1[redacted]"),
)
"""Each secret in plain text, in JSON (also escaped inside a string) and URL-encoded (a form
body or a query string), so a secret logged in any of these shapes is caught: tokens, the
credentials of an ``Authorization`` header (Bearer, Basic...) and an OAuth authorization
``code`` in a query string (Lightspeed's V1 token request carries it there), raw or parsed
(Bolt logs a refused install redirect's query as ``{'code': ['…']}``)."""

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
