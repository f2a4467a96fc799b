"""Fixtures shared by every tier; tiers are marked by folder (unit, integration, e2e)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from adapters.redis_store import RedisDocumentCache, RedisRateLimiter, connect, connect_binary
from gateway.entrypoints.web import create_app
from gateway.ports.storage import Store
from gateway.settings import Settings
from gateway.usecases.context import FlowContext, local_now
from sandbox.onec import harness as onec_harness
from sandbox.onec.harness import RunningSandbox
from sandbox.telegram import harness as telegram_harness
from sandbox.telegram.harness import SandboxServer
from tests.fakes import make_context
from tests.serving import emulator_fixtures

TESTS = Path(__file__).parent
TIER_BY_FOLDER = {
    "unit": "unit",
    "integration": "integration",
    "sandbox": "integration",
    "e2e": "e2e",
    "faults": "slow",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with the tier of its folder, so `-m unit` etc. select by tier."""
    for item in items:
        parts = Path(str(item.fspath)).relative_to(TESTS).parts
        tier = TIER_BY_FOLDER.get(parts[0]) if len(parts) > 1 else None
        if tier:
            item.add_marker(getattr(pytest.mark, tier))


def unavailable(reason: str) -> NoReturn:
    """A tool or file a test needs is missing: fail in CI, where `make test` installs it; skip on
    a developer's machine without it, saying what to install."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must have it)")
    pytest.skip(reason)


SANDBOX_TOKEN = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
TEST_SECRET = "test-gateway-secret-0123456789"


def unlimited_limiter(settings: Settings) -> RedisRateLimiter:
    """A flood limiter for `settings` that never makes a sender wait: for tests that measure the
    gateway under load rather than its pace towards Telegram."""
    return RedisRateLimiter(
        connect(settings.redis_url.reveal()),
        settings.redis_prefix,
        per_second=0,
        burst=0,
        per_chat_per_second=0,
        chat_burst=0,
    )


def redis_context(store: Store, url: str, prefix: str, **overrides: Any) -> FlowContext:
    """`make_context` over Redis: `store` for every storage port, a document cache at `url`
    under `prefix`, and the wall clock (FlowContext's own) unless `overrides` set `now`."""
    documents = RedisDocumentCache(connect_binary(url), prefix)
    return make_context(store, documents=documents, **{"now": local_now, **overrides})


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"tg1c-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.ConnectionError:
        pass
    finally:
        client.close()


@pytest.fixture
def env(redis_prefix: str) -> dict[str, str]:
    """A complete, valid environment for the gateway (tests change single entries)."""
    return {
        "ONEC_BASE_URL": "http://127.0.0.1:9/uh",  # nothing listens: tests that need 1C say so
        "TELEGRAM_BOT_TOKEN": SANDBOX_TOKEN,
        "GATEWAY_SECRET": TEST_SECRET,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "REDIS_PREFIX": redis_prefix,
    }


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    """Settings built from `env`."""
    return Settings.from_env(env)


@pytest.fixture
def app(settings: Settings) -> Flask:
    """The web app wired on `settings` (real Redis under this test's prefix)."""
    flask_app = create_app(settings)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of `app`."""
    return app.test_client()


@pytest.fixture
def runner(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs `python -m gateway ARGS` in a clean environment (only `env` and PATH) and captures it.

    The working directory is an empty temporary folder, so no developer's `.env` leaks in.
    """

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        full_env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(TESTS.parent)}
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "gateway", *args],
            env=full_env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


onec_emulator, onec = emulator_fixtures(
    "onec_emulator", "onec", onec_harness.running, scope="session", what="The 1C emulator"
)
# The second infobase's (ERP's) emulator, for the tests of several bases (issue 21).
erp_emulator, erp = emulator_fixtures(
    "erp_emulator",
    "erp",
    lambda: onec_harness.running(seed="erp", base="/erp"),
    scope="module",
    what="The ERP's 1C emulator",
)
telegram_emulator, telegram = emulator_fixtures(
    "telegram_emulator",
    "telegram",
    lambda: telegram_harness.running(SANDBOX_TOKEN),
    scope="session",
    what="The Bot API emulator",
)


@pytest.fixture
def onec_env(env: dict[str, str], onec: RunningSandbox, telegram: SandboxServer) -> dict[str, str]:
    """`env` pointing at both emulators, with the 1C emulator's (Cyrillic) credentials."""
    return {
        **env,
        "TELEGRAM_API_URL": telegram.url,
        "ONEC_BASE_URL": onec.base_url,
        "ONEC_USERNAME": onec.config.user,
        "ONEC_PASSWORD": onec.config.password,
        "ONEC_PROFILE": "sandbox",
        "ONEC_APPROVAL_PROCESSES": "BusinessProcess_Согласование",  # the emulator's approvals
        "ONEC_TIMEOUT": "5",
    }
