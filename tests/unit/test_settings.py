"""Settings of design section 3: defaults, one line per problem, secrets kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.domain.infobases import Infobase
from gateway.errors import SettingsError
from gateway.settings import OneCBaseSettings, Secret, Settings, WorkHours
from tests.conftest import SANDBOX_TOKEN, TEST_SECRET

VALID = {
    "ONEC_BASE_URL": "http://srv/uh",
    "TELEGRAM_BOT_TOKEN": SANDBOX_TOKEN,
    "GATEWAY_SECRET": TEST_SECRET,
}


def problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    return caught.value.problems


def test_defaults_are_those_of_the_design() -> None:
    s = Settings.from_env(VALID)
    assert s.first_base.connector == "odata"
    assert s.first_base.profile == "bsp"
    assert s.first_base.http_root == "approvals"
    assert s.first_base.soap_wsdl == "http://srv/uh/ws/approvals?wsdl"
    assert s.first_base.poll_interval == 15
    assert s.first_base.timeout == 30
    assert s.telegram_api_url == "https://api.telegram.org"
    assert s.telegram_mode == "polling"
    assert s.redis_url.reveal() == "redis://127.0.0.1:6379/0"
    assert s.redis_prefix == "tg1c:"
    assert s.gateway_language == "ru"
    assert s.pdf_engine == "auto"
    assert s.pdf_templates_dir is None
    assert s.remind_after_hours == 24
    assert s.work_hours == WorkHours(9, 19)
    assert (s.log_level, s.log_format) == ("INFO", "text")
    assert s.first_base.http_base == "http://srv/uh/hs/approvals/v1"


def test_an_empty_environment_names_each_required_setting_on_its_own_line() -> None:
    assert problems({}) == [
        "ONEC_BASE_URL: required, not set",
        "TELEGRAM_BOT_TOKEN: required, not set",
        "GATEWAY_SECRET: required, not set",
    ]


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        {
            **VALID,
            "ONEC_CONNECTOR": "com",
            "REDIS_URL": "localhost:6379",
            "ONEC_POLL_INTERVAL": "often",
            "GATEWAY_LANGUAGE": "de",
            "WORK_HOURS": "19-09",
        }
    )
    assert [p.split(":")[0] for p in found] == [
        "ONEC_CONNECTOR",
        "ONEC_POLL_INTERVAL",
        "REDIS_URL",
        "GATEWAY_LANGUAGE",
        "WORK_HOURS",
    ]
    assert "'com' is not one of: odata, http, soap" in found[0]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ONEC_BASE_URL", "srv/uh", "must be an http:// or https:// URL"),
        ("ONEC_BASE_URL", "http://admin:pw@srv/uh", "must not hold credentials"),
        ("ONEC_PROFILE", "holding", "neither a built-in profile"),
        ("ONEC_PROFILE", "/nowhere/profile.toml", "does not exist"),
        ("ONEC_HTTP_ROOT", "a/b", "not a single URL path segment"),
        ("ONEC_TIMEOUT", "0", "must be greater than 0"),
        ("TELEGRAM_MODE", "push", "not one of"),
        ("TELEGRAM_BOT_TOKEN", "12345", "does not look like a token"),
        ("REDIS_URL", "http://127.0.0.1:6379", "not a Redis URL"),
        ("REDIS_URL", "redis://127.0.0.1:port/0", "not a Redis URL"),
        ("REDIS_URL", "redis://127.0.0.1:6379/zero", "not a Redis URL"),
        ("REDIS_PREFIX", "tg 1c", "must not contain spaces"),
        ("GATEWAY_SECRET", "short", "too short"),
        ("GATEWAY_SECRET", "change-me-please-1234", "placeholder"),
        ("PDF_ENGINE", "chrome", "not one of"),
        ("PDF_TEMPLATES_DIR", "/nowhere", "is not a directory"),
        ("REMIND_AFTER_HOURS", "-1", "must be at least 0"),
        ("WORK_HOURS", "9to19", "is not hours START-END"),
        ("LOG_LEVEL", "LOUD", "not one of"),
        ("LOG_FORMAT", "xml", "not one of"),
    ],
)
def test_a_bad_value_is_named_with_what_is_wrong(name: str, value: str, expected: str) -> None:
    found = problems({**VALID, name: value})
    assert len(found) == 1
    assert found[0].startswith(f"{name}: ")
    assert expected in found[0]


def test_webhook_mode_requires_its_url_and_secret() -> None:
    found = problems({**VALID, "TELEGRAM_MODE": "webhook"})
    assert found == [
        "TELEGRAM_WEBHOOK_URL: required when TELEGRAM_MODE=webhook",
        "TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_MODE=webhook",
    ]


def test_real_telegram_delivers_webhooks_only_over_https() -> None:
    env = {
        **VALID,
        "TELEGRAM_MODE": "webhook",
        "TELEGRAM_WEBHOOK_URL": "http://gw.example/telegram/webhook",
        "TELEGRAM_WEBHOOK_SECRET": "s3cret",
    }
    assert problems(env) == ["TELEGRAM_WEBHOOK_URL: Telegram delivers webhooks only to https://"]
    # A self-hosted Bot API server or the sandbox may call plain http.
    Settings.from_env({**env, "TELEGRAM_API_URL": "http://127.0.0.1:8081"})


def test_a_redis_password_is_masked_in_the_problem_and_the_display() -> None:
    found = problems({**VALID, "REDIS_URL": "redis://:hunter2@/0"})
    assert "hunter2" not in found[0]
    s = Settings.from_env({**VALID, "REDIS_URL": "redis://:hunter2@cache:6380/1"})
    assert s.redis_url_display == "redis://:***@cache:6380/1"


def test_secrets_can_come_from_files(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(SANDBOX_TOKEN + "\n", encoding="utf-8")
    env = {**VALID, "TELEGRAM_BOT_TOKEN": "", "TELEGRAM_BOT_TOKEN_FILE": str(token_file)}
    assert Settings.from_env(env).telegram_bot_token.reveal() == SANDBOX_TOKEN


def test_a_missing_secret_file_and_a_secret_set_twice_are_refused(tmp_path: Path) -> None:
    found = problems({**VALID, "ONEC_PASSWORD_FILE": str(tmp_path / "absent")})
    assert found == [
        f"ONEC_PASSWORD_FILE: cannot read {tmp_path / 'absent'}: No such file or directory"
    ]
    (tmp_path / "secret").write_text(TEST_SECRET, encoding="utf-8")
    found = problems({**VALID, "GATEWAY_SECRET_FILE": str(tmp_path / "secret")})
    assert found == ["GATEWAY_SECRET: set both GATEWAY_SECRET and GATEWAY_SECRET_FILE; keep one"]


def test_only_secrets_can_come_from_files(tmp_path: Path) -> None:
    (tmp_path / "url").write_text("http://srv/uh", encoding="utf-8")
    env = {k: v for k, v in VALID.items() if k != "ONEC_BASE_URL"}
    assert problems({**env, "ONEC_BASE_URL_FILE": str(tmp_path / "url")}) == [
        "ONEC_BASE_URL: required, not set"
    ]


def test_secrets_never_show_in_repr_or_messages() -> None:
    env = {
        **VALID,
        "ONEC_PASSWORD": "пароль-1С",
        "REDIS_URL": "redis://:hunter2@cache:6379/0",
        "TELEGRAM_WEBHOOK_SECRET": "hook-secret",
    }
    s = Settings.from_env(env)
    shown = repr(s) + str(s) + f"{s.telegram_bot_token} {s.gateway_secret!r}"
    for secret in (SANDBOX_TOKEN, TEST_SECRET, "пароль-1С", "hunter2", "hook-secret"):
        assert secret not in shown
    assert set(s.secret_values()) == {
        SANDBOX_TOKEN,
        TEST_SECRET,
        "пароль-1С",
        "hook-secret",
        "hunter2",
    }


def test_a_bad_token_is_reported_without_echoing_it() -> None:
    found = problems({**VALID, "TELEGRAM_BOT_TOKEN": "123:short-but-secret"})
    assert "short-but-secret" not in found[0]


def test_secret_compares_by_value_but_hides_it() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert repr(Secret("a")) == "Secret('**********')"
    assert not Secret("")


def test_cyrillic_username_and_a_trailing_slash_on_the_base_url_are_fine() -> None:
    s = Settings.from_env({**VALID, "ONEC_BASE_URL": "https://srv/uh/", "ONEC_USERNAME": "Шлюз"})
    assert s.first_base.base_url == "https://srv/uh"
    assert s.first_base.username == "Шлюз"


def test_addressing_settings_default_to_no_approvals_and_notified_other_tasks() -> None:
    s = Settings.from_env(VALID)
    assert s.first_base.approval_processes == ()
    assert s.first_base.other_tasks == "notify"
    assert (s.first_base.users_group, s.first_base.admins_group) == ("", "")


def test_approval_processes_are_a_list_of_business_process_sets() -> None:
    s = Settings.from_env(
        {
            **VALID,
            "ONEC_APPROVAL_PROCESSES": " BusinessProcess_Согласование ,BusinessProcess_Исполнение",
            "ONEC_OTHER_TASKS": "off",
            "ONEC_USERS_GROUP": " Согласующие ",
        }
    )
    assert s.first_base.approval_processes == (
        "BusinessProcess_Согласование",
        "BusinessProcess_Исполнение",
    )
    assert s.first_base.other_tasks == "off"
    assert s.first_base.users_group == "Согласующие"


def test_a_process_named_without_its_set_prefix_is_refused() -> None:
    found = problems({**VALID, "ONEC_APPROVAL_PROCESSES": "Согласование", "ONEC_OTHER_TASKS": "x"})
    assert any(p.startswith("ONEC_APPROVAL_PROCESSES: 'Согласование'") for p in found)
    assert "ONEC_OTHER_TASKS: 'x' is not one of: notify, off" in found


def test_the_push_key_is_optional_but_strong_and_never_the_button_key() -> None:
    assert not Settings.from_env(VALID).first_base.push_secret  # pushes off
    push_key = "onec-push-secret-0123456789"
    assert Settings.from_env(
        {**VALID, "ONEC_PUSH_SECRET": push_key}
    ).first_base.push_secret == Secret(push_key)
    assert problems({**VALID, "ONEC_PUSH_SECRET": "short"}) == [
        "ONEC_PUSH_SECRET: too short: use at least 16 random characters "
        "(e.g. `openssl rand -hex 32`)"
    ]
    assert problems({**VALID, "ONEC_PUSH_SECRET": TEST_SECRET}) == [
        "ONEC_PUSH_SECRET: must differ from GATEWAY_SECRET: 1C must not hold the key that signs "
        "buttons"
    ]


def test_the_redis_password_is_put_into_the_url_percent_encoded_and_can_come_from_a_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "redis").write_text("p@ss w/rd\n", encoding="utf-8")
    s = Settings.from_env(
        {
            **VALID,
            "REDIS_URL": "rediss://tg1c@cache:6380/1?ssl_ca_certs=/etc/tg1c/ca.pem",
            "REDIS_PASSWORD_FILE": str(tmp_path / "redis"),
        }
    )
    assert (
        s.redis_url.reveal()
        == "rediss://tg1c:p%40ss%20w%2Frd@cache:6380/1?ssl_ca_certs=/etc/tg1c/ca.pem"
    )
    assert s.redis_url_display == "rediss://tg1c:***@cache:6380/1?ssl_ca_certs=/etc/tg1c/ca.pem"
    assert "p@ss w/rd" in s.secret_values()
    assert problems({**VALID, "REDIS_URL": "redis://:a@cache", "REDIS_PASSWORD": "b"}) == [
        "REDIS_PASSWORD: REDIS_URL holds a password already; keep one"
    ]


def test_the_1c_login_is_a_secret_value_as_basic_auth_encodes_it() -> None:
    s = Settings.from_env({**VALID, "ONEC_USERNAME": "Шлюз", "ONEC_PASSWORD": "пароль"})
    assert "Шлюз:пароль" in s.secret_values()


def test_the_proxy_password_is_masked_and_counted_among_the_secrets() -> None:
    s = Settings.from_env({**VALID, "TELEGRAM_PROXY_URL": "socks5://office:pr%40xy@10.0.0.1:1080"})
    assert s.telegram_proxy_display == "socks5://office:***@10.0.0.1:1080"
    assert "pr@xy" in s.secret_values() and "pr%40xy" in s.secret_values()
    assert "pr%40xy" not in repr(s)


def test_1c_certificates_are_checked_against_the_system_cas_unless_told_otherwise(
    tmp_path,
) -> None:
    bundle = tmp_path / "company-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert Settings.from_env(VALID).first_base.tls_verify is True
    assert Settings.from_env({**VALID, "ONEC_CA_BUNDLE": str(bundle)}).first_base.tls_verify == str(
        bundle
    )
    assert Settings.from_env({**VALID, "ONEC_VERIFY_TLS": "false"}).first_base.tls_verify is False


def test_card_content_settings_default_to_everything_and_name_bad_values() -> None:
    s = Settings.from_env(VALID)
    assert (s.telegram_send_pdf, s.telegram_card_fields) == (True, 6)
    found = problems({**VALID, "TELEGRAM_SEND_PDF": "maybe", "TELEGRAM_CARD_FIELDS": "7"})
    assert "TELEGRAM_SEND_PDF: 'maybe' is not true or false" in found
    assert "TELEGRAM_CARD_FIELDS: must be a whole number from 0 to 6" in found


# --- several infobases (issue 21) -------------------------------------------------------------

TWO_BASES = {
    "TELEGRAM_BOT_TOKEN": SANDBOX_TOKEN,
    "GATEWAY_SECRET": TEST_SECRET,
    "ONEC_BASES": "uh, erp",
    "ONEC_UH_BASE_URL": "https://srv/uh",
    "ONEC_UH_TITLE": "УХ",
    "ONEC_ERP_BASE_URL": "https://srv/erp/",
    "ONEC_ERP_CONNECTOR": "http",
    "ONEC_USERNAME": "Шлюз",
    "ONEC_PASSWORD": "общий-пароль",
}


def test_a_single_base_is_one_unnamed_base_with_the_plain_onec_values() -> None:
    s = Settings.from_env({**VALID, "ONEC_CONNECTOR": "soap", "ONEC_PUSH_SECRET": "p" * 20})
    (base,) = s.bases
    assert base is s.first_base
    assert base.infobase == Infobase()
    assert not s.several_bases
    assert (base.connector, base.base_url, base.push_secret) == (
        "soap",
        "http://srv/uh",
        Secret("p" * 20),
    )
    assert (base.http_base, base.tls_verify) == ("http://srv/uh/hs/approvals/v1", True)


def test_each_base_reads_its_own_variables_and_falls_back_to_the_shared_ones() -> None:
    s = Settings.from_env({**TWO_BASES, "ONEC_ERP_USERNAME": "Шлюз ERP"})
    uh, erp = s.bases
    assert (uh.infobase, erp.infobase) == (Infobase("uh", "УХ"), Infobase("erp", "ERP"))
    assert (uh.base_url, erp.base_url) == ("https://srv/uh", "https://srv/erp")
    assert (uh.connector, erp.connector) == ("odata", "http")
    assert (uh.username, erp.username) == ("Шлюз", "Шлюз ERP")
    assert uh.password == erp.password == Secret("общий-пароль")
    assert erp.soap_wsdl == "https://srv/erp/ws/approvals?wsdl"
    assert erp.http_base == "https://srv/erp/hs/approvals/v1"
    assert s.several_bases
    assert s.base("erp") is erp
    # A command without --base talks to the first base of ONEC_BASES.
    assert s.first_base is uh


def test_each_base_needs_its_own_address_and_the_shared_one_is_not_required() -> None:
    env = {k: v for k, v in TWO_BASES.items() if k != "ONEC_ERP_BASE_URL"}
    assert problems({**env, "ONEC_BASE_URL": "https://srv/shared"}) == [
        "ONEC_ERP_BASE_URL: required, not set"
    ]


def test_every_problem_names_the_variable_hence_the_base() -> None:
    found = problems(
        {
            **TWO_BASES,
            "ONEC_UH_TIMEOUT": "0",
            "ONEC_ERP_CONNECTOR": "com",
            "ONEC_POLL_INTERVAL": "often",  # shared by both bases: reported once
            "ONEC_ERP_PUSH_SECRET": TEST_SECRET,
        }
    )
    assert [p.split(":")[0] for p in found] == [
        "ONEC_POLL_INTERVAL",
        "ONEC_UH_TIMEOUT",
        "ONEC_ERP_CONNECTOR",
        "ONEC_ERP_PUSH_SECRET",
    ]
    assert "must differ from GATEWAY_SECRET" in found[-1]


@pytest.mark.parametrize(
    ("bases", "expected"),
    [
        ("uh,UH", "'UH' is not a base name"),
        ("uh,erp,uh", "'uh' is listed twice"),
        ("holding2026x", "'holding2026x' is not a base name"),
        ("1c", "'1c' is not a base name"),
        (" , ", "lists no base"),
    ],
)
def test_a_bad_list_of_bases_is_named(bases: str, expected: str) -> None:
    found = problems({**VALID, "ONEC_UH_BASE_URL": "https://srv/uh", "ONEC_BASES": bases})
    assert found[0].startswith("ONEC_BASES: ")
    assert expected in found[0]


def test_a_base_secret_can_come_from_its_own_file(tmp_path: Path) -> None:
    (tmp_path / "erp").write_text("пароль-ERP\n", encoding="utf-8")
    s = Settings.from_env({**TWO_BASES, "ONEC_ERP_PASSWORD_FILE": str(tmp_path / "erp")})
    assert s.base("erp").password == Secret("пароль-ERP")
    assert s.base("uh").password == Secret("общий-пароль")


def test_every_base_secret_is_masked() -> None:
    s = Settings.from_env(
        {
            **TWO_BASES,
            "ONEC_ERP_PASSWORD": "пароль-ERP",
            "ONEC_UH_PUSH_SECRET": "push-key-of-uh-0001",
            "ONEC_ERP_PUSH_SECRET": "push-key-of-erp-002",
        }
    )
    shown = repr(s)
    values = s.secret_values()
    for secret in ("общий-пароль", "пароль-ERP", "push-key-of-uh-0001", "push-key-of-erp-002"):
        assert secret not in shown
        assert secret in values
    assert "Шлюз:пароль-ERP" in values


def test_settings_built_in_code_take_their_bases_and_defaults() -> None:
    base = OneCBaseSettings(infobase=Infobase(), base_url="http://srv/uh")
    s = Settings(bases=(base,), telegram_bot_token=Secret("t"), gateway_secret=Secret("g"))
    assert s.first_base is base
    assert (base.connector, s.telegram_mode, s.redis_prefix) == ("odata", "polling", "tg1c:")
