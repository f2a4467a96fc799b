"""Logging set-up: text or JSON lines, secrets masked everywhere, chatty URL loggers quieted.

Every process configures it the same way: the worker and the CLI in `cli.main`, the web process
in `web.app_from_environment` (gunicorn's workers), gunicorn's master in deploy/gunicorn.conf.py.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final, TextIO

from gateway.masking import SecretMask
from gateway.settings import LogFormat

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
# Web servers' own loggers come with handlers of their own that our filter would not see: their
# records (request lines with query strings and user names, tracebacks) go through ours instead.
SERVER_LOGGERS: Final = ("gunicorn.error", "gunicorn.access", "werkzeug")


class SecretMaskingFilter(logging.Filter):
    """Replaces known secret values, in plain and encoded forms, and credential shapes (bot
    tokens, Basic auth, passwords in URLs) with `***` (gateway.masking).

    Attached to handlers, so it sees every record whatever logger emitted it, and applied to the
    fully formatted message and traceback, where secrets in arguments and exceptions end up.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.mask = SecretMask(secrets)

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
    if fmt == LogFormat.JSON:
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
    for name in SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        for old in list(server_logger.handlers):
            server_logger.removeHandler(old)
        server_logger.propagate = True
        server_logger.setLevel(logging.NOTSET)  # LOG_LEVEL decides for them too
