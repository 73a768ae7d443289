"""``LOG_FORMAT=json``: one JSON object per line, for log shippers.

Each line has the time, level, logger and message, the context of ``log_context`` (request,
job, company, location) where known, and the exception with its traceback. The message was
redacted when the record was made (``redaction.install``); the traceback is formatted here,
so it goes through the same ``redaction.redact``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from stockpot.core import log_context, redaction


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **log_context.current(),
        }
        if record.exc_info:
            entry["exception"] = redaction.redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redaction.redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)
