"""`python -m gateway check` and friends, run as a user would, in a clean environment."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SANDBOX_TOKEN, TEST_SECRET


def test_check_with_an_empty_environment_lists_each_missing_setting_and_exits_2(runner) -> None:
    result = runner("check", env={})
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert "  ONEC_BASE_URL: required, not set" in lines
    assert "  TELEGRAM_BOT_TOKEN: required, not set" in lines
    assert "  GATEWAY_SECRET: required, not set" in lines
    assert "Traceback" not in result.stderr


def test_check_names_an_invalid_connector_and_a_malformed_redis_url(runner, env) -> None:
    result = runner("check", env={**env, "ONEC_CONNECTOR": "com", "REDIS_URL": "redis//x"})
    assert result.returncode == 2
    assert "ONEC_CONNECTOR: 'com' is not one of: odata, http, soap" in result.stderr
    assert "REDIS_URL: " in result.stderr


def test_check_passes_when_redis_answers(runner, env) -> None:
    result = runner("check", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "settings: ok",
        f"redis: ok ({env['REDIS_URL']})",
    ]


def test_check_says_redis_is_unreachable_and_fails_without_leaking_secrets(runner, env) -> None:
    env = {**env, "REDIS_URL": "redis://:hunter2@127.0.0.1:1/0", "ONEC_PASSWORD": "пароль"}
    result = runner("check", env=env)
    assert result.returncode == 1
    assert "redis: FAILED: Redis is unavailable" in result.stdout
    shown = result.stdout + result.stderr
    for secret in (SANDBOX_TOKEN, TEST_SECRET, "hunter2", "пароль"):
        assert secret not in shown


def test_a_dotenv_file_in_the_working_directory_is_read(runner, env, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "\n".join(f"{k}={v}" for k, v in env.items() if k != "REDIS_URL"), encoding="utf-8"
    )
    result = runner("check", env={"REDIS_URL": env["REDIS_URL"]})
    assert result.returncode == 0, result.stderr


def test_the_environment_wins_over_dotenv(runner, env, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ONEC_CONNECTOR=com\n", encoding="utf-8")
    assert runner("check", env={**env, "ONEC_CONNECTOR": "http"}).returncode == 0


def test_unknown_commands_are_refused_with_usage(runner, env) -> None:
    result = runner("frobnicate", env=env)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
