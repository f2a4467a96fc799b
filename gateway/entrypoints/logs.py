"""Logging set-up: text or JSON lines, secrets masked everywhere, chatty URL loggers quieted."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final, TextIO

MASK: Final = "***"
# httpx and urllib3 log request URLs at INFO/DEBUG, and Bot API URLs contain the token;
# telegram.Bot logs its base URLs (token included) at DEBUG when it is created.
QUIET_LOGGERS: Final = (
    "httpx",
    "httpcore",
    "urllib3",
    "telegram.request",
    "telegram.Bot",
    "zeep.transports",
)
_BOT_TOKEN_RE = re.compile(r"(?<![0-9])\d{3,}:[A-Za-z0-9_-]{30,}")


class SecretMaskingFilter(logging.Filter):
    """Replaces known secret values, and anything shaped like a bot token, with `***`.

    Attached to handlers, so it sees every record whatever logger emitted it, and applied to the
    fully formatted message and traceback, where secrets in arguments and exceptions end up.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        """`text` with every secret masked."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return _BOT_TOKEN_RE.sub(MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.mask(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self.mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(
    level: str, fmt: str, secrets: Iterable[str], stream: TextIO | None = None
) -> None:
    """Route all logging to `stream` (stderr) in `fmt` (text|json) at `level`, secrets masked."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(SecretMaskingFilter(secrets))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
