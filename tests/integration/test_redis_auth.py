"""Redis with an ACL user and a password, over TLS (`rediss://`): the gateway logs in, uses it,
and never shows the password."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from gateway.bootstrap import build
from gateway.errors import SettingsError
from gateway.settings import Settings
from tests.private_redis import PrivateRedis, running_redis

PASSWORD = "redis pass/word:Ж"


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    with running_redis(tmp_path_factory.mktemp("redis"), PASSWORD, tls=True) as instance:
        yield instance


def with_redis(env: dict[str, str], url: str, password_file: Path) -> dict[str, str]:
    return {**env, "REDIS_URL": url, "REDIS_PASSWORD_FILE": str(password_file)}


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "redis-password"
    path.write_text(PASSWORD + "\n", encoding="utf-8")
    return path


def test_the_store_works_over_tls_as_an_acl_user(
    env: dict[str, str], tls_redis: PrivateRedis, password_file: Path
) -> None:
    gateway = build(Settings.from_env(with_redis(env, tls_redis.url, password_file)))
    try:
        gateway.store.ping()
        gateway.store.set_status(last_sync_pending="3")
        assert gateway.store.get_status()["last_sync_pending"] == "3"
    finally:
        gateway.close()


def test_check_logs_in_over_tls_and_shows_the_url_without_the_password(
    runner, onec_env: dict[str, str], tls_redis: PrivateRedis, password_file: Path
) -> None:
    result = runner("check", env=with_redis(onec_env, tls_redis.url, password_file))
    assert result.returncode == 0, result.stdout + result.stderr
    shown = tls_redis.url.replace("tg1c@", "tg1c:***@")
    assert f"redis: ok ({shown})" in result.stdout
    for form in (PASSWORD, quote(PASSWORD, safe="")):
        assert form not in result.stdout + result.stderr


def test_a_wrong_password_is_named_as_such_and_not_shown(
    runner, onec_env: dict[str, str], tls_redis: PrivateRedis, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password", encoding="utf-8")
    result = runner("check", env=with_redis(onec_env, tls_redis.url, wrong))
    assert result.returncode == 1
    assert "redis: FAILED: Redis is unavailable: refused the user name or password" in (
        result.stdout
    )
    assert "not-the-password" not in result.stdout + result.stderr


def test_without_the_private_ca_the_tls_connection_is_refused(
    runner, onec_env: dict[str, str], tls_redis: PrivateRedis, password_file: Path
) -> None:
    url = tls_redis.url.split("?")[0]
    result = runner("check", env=with_redis(onec_env, url, password_file))
    assert result.returncode == 1
    assert "redis: FAILED:" in result.stdout and "CERTIFICATE_VERIFY_FAILED" in result.stdout


def test_a_password_in_both_the_url_and_redis_password_is_a_settings_problem(
    env: dict[str, str], password_file: Path
) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(with_redis(env, "redis://tg1c:other@127.0.0.1:6379/0", password_file))
    assert raised.value.problems == ["REDIS_PASSWORD: REDIS_URL holds a password already; keep one"]
