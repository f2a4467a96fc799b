"""Secrets never reach the logs, whatever logger prints them and however."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from gateway.entrypoints.logs import QUIET_LOGGERS, configure_logging
from tests.conftest import SANDBOX_TOKEN, TEST_SECRET


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_secrets_in_messages_arguments_and_tracebacks_are_masked(captured: io.StringIO) -> None:
    configure_logging("DEBUG", "text", [TEST_SECRET, "пароль-1С"], captured)
    log = logging.getLogger("tests.anything")
    log.info("password is %s", "пароль-1С")
    log.warning(f"secret {TEST_SECRET} leaked into an f-string")
    try:
        raise RuntimeError(f"GET https://api.telegram.org/bot{SANDBOX_TOKEN}/getMe failed")
    except RuntimeError:
        log.exception("request failed")
    out = captured.getvalue()
    assert "пароль-1С" not in out
    assert TEST_SECRET not in out
    assert SANDBOX_TOKEN not in out  # masked by its shape even though not listed
    assert out.count("***") == 3
    assert "RuntimeError" in out


def test_json_lines_carry_the_masked_message(captured: io.StringIO) -> None:
    configure_logging("INFO", "json", [TEST_SECRET], captured)
    logging.getLogger("tests.json").error("bad key %s", TEST_SECRET)
    entry = json.loads(captured.getvalue().strip())
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "tests.json"
    assert entry["message"] == "bad key ***"


def test_url_printing_loggers_are_kept_at_warning(captured: io.StringIO) -> None:
    configure_logging("DEBUG", "text", [], captured)
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot.../getMe")
    assert captured.getvalue() == ""
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
