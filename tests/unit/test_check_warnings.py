"""`check` warns about 1C or a Bot API server reached over plain http:// on another host."""

from __future__ import annotations

import pytest

from gateway.entrypoints.cli import settings_warnings
from gateway.settings import Settings
from tests.conftest import SANDBOX_TOKEN, TEST_SECRET


def settings_for(base_url: str, **extra: str) -> Settings:
    return Settings.from_env(
        {
            "ONEC_BASE_URL": base_url,
            "TELEGRAM_BOT_TOKEN": SANDBOX_TOKEN,
            "GATEWAY_SECRET": TEST_SECRET,
            **extra,
        }
    )


def test_http_to_another_host_is_warned_about_as_basic_auth_in_clear() -> None:
    [line] = settings_warnings(settings_for("http://srv-1c/uh"))
    assert line.startswith("1c: warning: ONEC_BASE_URL is http:// to srv-1c:")
    assert "in clear" in line


@pytest.mark.parametrize(
    "url",
    ["https://srv-1c/uh", "http://localhost:8082/uh", "http://127.0.0.1/uh", "http://[::1]:80/uh"],
)
def test_https_or_a_loopback_host_is_not_warned_about(url: str) -> None:
    assert settings_warnings(settings_for(url)) == []


def test_a_bot_api_server_over_http_on_another_host_is_warned_about() -> None:
    found = settings_warnings(
        settings_for("https://srv-1c/uh", TELEGRAM_API_URL="http://bot-api.corp:8081")
    )
    assert [line.split(":")[0:2] for line in found] == [["telegram", " warning"]]
    assert "bot-api.corp" in found[0] and SANDBOX_TOKEN not in found[0]
