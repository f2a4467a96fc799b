"""Secrets never reach the logs, whatever logger prints them and however."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Iterator

import pytest

from gateway.entrypoints.logs import QUIET_LOGGERS, configure_logging
from gateway.settings import Settings
from tests.conftest import SANDBOX_TOKEN, TEST_SECRET
from tests.secret_forms import written_forms


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


ONEC_PASSWORD = "пароль 1С/x+y"
BASIC_USER = "Шлюз"


@pytest.mark.parametrize("secret", [ONEC_PASSWORD, SANDBOX_TOKEN, TEST_SECRET])
def test_every_written_form_of_a_secret_is_masked(captured: io.StringIO, secret: str) -> None:
    configure_logging("DEBUG", "text", [ONEC_PASSWORD, SANDBOX_TOKEN, TEST_SECRET], captured)
    log = logging.getLogger("tests.forms")
    for name, form in written_forms(secret).items():
        log.warning("%s: [%s]", name, form)
    out = captured.getvalue()
    for name, form in written_forms(secret).items():
        assert form not in out, f"the {name} form is in the log"
    assert out.count("***") >= len(written_forms(secret))


def test_basic_auth_and_passwords_in_urls_are_masked_whatever_their_value(
    captured: io.StringIO,
) -> None:
    settings = Settings.from_env(
        {
            "ONEC_BASE_URL": "http://srv/uh",
            "ONEC_USERNAME": BASIC_USER,
            "ONEC_PASSWORD": ONEC_PASSWORD,
            "TELEGRAM_BOT_TOKEN": SANDBOX_TOKEN,
            "GATEWAY_SECRET": TEST_SECRET,
            "REDIS_URL": "rediss://tg1c@redis.example:6380/0",
            "REDIS_PASSWORD": "redis pass/word",
        }
    )
    configure_logging("INFO", "text", settings.secret_values(), captured)
    basic = base64.b64encode(f"{BASIC_USER}:{ONEC_PASSWORD}".encode()).decode()
    log = logging.getLogger("tests.credentials")
    log.info("sent Authorization: Basic %s", basic)
    log.info("header dict {'authorization': 'basic %s'}", basic)
    log.info("the bare Basic value %s", basic)
    log.info("connecting to %s", settings.redis_url.reveal())
    log.info("proxy http://someone:unknown-proxy-pw@proxy:3128 refused")
    out = captured.getvalue()
    for leaked in (basic, "redis pass/word", "redis%20pass%2Fword", "unknown-proxy-pw"):
        assert leaked not in out
    assert "rediss://tg1c:***@redis.example:6380/0" in out
    assert "Basic ***" in out


def test_ordinary_text_about_credentials_is_left_alone(captured: io.StringIO) -> None:
    configure_logging("INFO", "text", [TEST_SECRET], captured)
    line = "http://srv-1c:8080/uh does not accept Basic authentication (HTTP 401)"
    logging.getLogger("tests.plain").info(line)
    assert line in captured.getvalue()


def test_web_servers_loggers_print_through_ours_at_log_level(captured: io.StringIO) -> None:
    access = logging.getLogger("gunicorn.access")
    own = logging.StreamHandler(io.StringIO())
    access.addHandler(own)
    access.propagate = False
    access.setLevel(logging.INFO)
    try:
        configure_logging("INFO", "json", [TEST_SECRET], captured)
        access.info('127.0.0.1 "GET /status?key=%s HTTP/1.1" 200', TEST_SECRET)
        entry = json.loads(captured.getvalue())
        assert entry["logger"] == "gunicorn.access"
        assert entry["message"] == '127.0.0.1 "GET /status?key=*** HTTP/1.1" 200'
        assert own not in access.handlers
        configure_logging("WARNING", "json", [TEST_SECRET], captured)
        access.info("a request line below LOG_LEVEL")
        assert "below LOG_LEVEL" not in captured.getvalue()
    finally:
        access.handlers.clear()
        access.propagate = True
