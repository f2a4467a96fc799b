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


def test_check_passes_when_1c_and_redis_answer(runner, onec_env) -> None:
    result = runner("check", env=onec_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "settings: ok",
        f"1c: ok (odata at {onec_env['ONEC_BASE_URL']})",
        f"redis: ok ({onec_env['REDIS_URL']})",
        f"telegram: ok ({onec_env['TELEGRAM_API_URL']})",
        "pdf: ok (pdfkit, chosen by PDF_ENGINE=auto)",
        "push: off (ONEC_PUSH_SECRET is not set: every push from 1C is refused)",
    ]


def test_check_says_pushes_are_on_once_the_push_key_is_set(runner, onec_env) -> None:
    env = {**onec_env, "ONEC_PUSH_SECRET": "onec-push-secret-0123456789"}
    result = runner("check", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "push: on (1C's pushes signed with ONEC_PUSH_SECRET are accepted)" in result.stdout
    assert "onec-push-secret-0123456789" not in result.stdout + result.stderr


def test_check_warns_but_passes_on_a_1c_url_in_clear_to_another_host(runner, onec_env) -> None:
    # 127.1 reaches the emulator here, but check counts only localhost, 127.0.0.0/8 and ::1
    # written out as loopback: it cannot know where any other name leads.
    env = {**onec_env, "ONEC_BASE_URL": onec_env["ONEC_BASE_URL"].replace("127.0.0.1", "127.1")}
    result = runner("check", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1c: warning: ONEC_BASE_URL is http:// to 127.1: the 1C user's password" in (
        result.stdout
    )


def test_check_does_not_warn_on_http_to_this_host(runner, onec_env) -> None:
    result = runner("check", env=onec_env)
    assert "warning" not in result.stdout


def test_check_says_redis_is_unreachable_and_fails_without_leaking_secrets(
    runner, onec_env
) -> None:
    env = {**onec_env, "REDIS_URL": "redis://:hunter2@127.0.0.1:1/0"}
    result = runner("check", env=env)
    assert result.returncode == 1
    assert "redis: FAILED: Redis is unavailable" in result.stdout
    assert "1c: ok" in result.stdout
    shown = result.stdout + result.stderr
    for secret in (SANDBOX_TOKEN, TEST_SECRET, "hunter2", onec_env["ONEC_PASSWORD"]):
        assert secret not in shown


def test_check_says_1c_refused_the_credentials(runner, onec_env) -> None:
    result = runner("check", env={**onec_env, "ONEC_PASSWORD": "wrong-пароль"})
    assert result.returncode == 1
    assert "1c: FAILED: 1C refused the credentials (HTTP 401" in result.stdout
    assert "wrong-пароль" not in result.stdout + result.stderr


def test_check_says_1c_is_unreachable(runner, env) -> None:
    result = runner("check", env=env)  # ONEC_BASE_URL points where nothing listens
    assert result.returncode == 1
    assert "1c: FAILED: 1C is unavailable: http://127.0.0.1:9/uh/odata/standard.odata/" in (
        result.stdout
    )


def test_check_says_what_to_install_when_the_pdf_engine_is_missing(runner, onec_env) -> None:
    env = {**onec_env, "PDF_ENGINE": "pdfkit", "PATH": "/nonexistent"}  # no wkhtmltopdf here
    result = runner("check", env=env)
    assert result.returncode == 1
    assert "pdf: FAILED:" in result.stdout and "wkhtmltopdf" in result.stdout


def test_by_default_check_falls_back_to_weasyprint_without_wkhtmltopdf(runner, onec_env) -> None:
    env = {**onec_env, "PATH": "/nonexistent"}  # wkhtmltopdf hidden; PDF_ENGINE left unset
    result = runner("check", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pdf: ok (weasyprint, chosen by PDF_ENGINE=auto)" in result.stdout.splitlines()


def test_a_broken_profile_file_is_a_configuration_error(runner, onec_env, tmp_path) -> None:
    profile = tmp_path / "holding.toml"
    profile.write_text('name = "holding"\n', encoding="utf-8")
    result = runner("check", env={**onec_env, "ONEC_PROFILE": str(profile)})
    assert result.returncode == 2
    assert "[tasks]: missing table" in result.stderr


def test_a_dotenv_file_in_the_working_directory_is_read(runner, onec_env, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "\n".join(f"{k}={v}" for k, v in onec_env.items() if k != "REDIS_URL"), encoding="utf-8"
    )
    result = runner("check", env={"REDIS_URL": onec_env["REDIS_URL"]})
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_environment_wins_over_dotenv(runner, onec_env, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ONEC_CONNECTOR=com\n", encoding="utf-8")
    assert runner("check", env={**onec_env, "ONEC_CONNECTOR": "http"}).returncode == 0


def test_unknown_commands_are_refused_with_usage(runner, env) -> None:
    result = runner("frobnicate", env=env)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def two_bases(onec_env: dict[str, str], uh_url: str) -> dict[str, str]:
    """The emulator as base erp; base uh at `uh_url`."""
    return {
        **{k: v for k, v in onec_env.items() if k != "ONEC_BASE_URL"},
        "ONEC_BASES": "uh,erp",
        "ONEC_UH_BASE_URL": uh_url,
        "ONEC_UH_TITLE": "УХ",
        "ONEC_ERP_BASE_URL": onec_env["ONEC_BASE_URL"],
        "ONEC_ERP_PUSH_SECRET": "erp-push-secret-0123456789",
    }


def test_check_reports_each_base_and_fails_when_one_base_is_down(runner, onec_env) -> None:
    result = runner("check", env=two_bases(onec_env, "http://127.0.0.1:9/uh"))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[1].startswith("1c:uh: FAILED: ")
    assert lines[2] == f"1c:erp: ok (ERP: odata at {onec_env['ONEC_BASE_URL']})"
    assert lines[-2:] == [
        "push uh: off (ONEC_UH_PUSH_SECRET is not set: its pushes are refused)",
        "push erp: on (POST /onec/events/erp, signed with ONEC_ERP_PUSH_SECRET)",
    ]
    assert "erp-push-secret-0123456789" not in result.stdout + result.stderr


def test_onec_tasks_asks_the_base_given_with_base(runner, onec_env) -> None:
    env = two_bases(onec_env, "http://127.0.0.1:9/uh")
    listed = runner("onec", "tasks", "--json", "--base", "erp", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip()  # the emulator's seed has pending tasks
    assert runner("onec", "tasks", env=env).returncode == 1  # the first base, uh, is down
    unknown = runner("onec", "tasks", "--base", "do", env=env)
    assert unknown.returncode == 2
    assert "--base do: no such base (ONEC_BASES: uh, erp)" in unknown.stderr
