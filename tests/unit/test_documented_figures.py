"""Figures the docs and comments state are computed here from the constants they describe.

Each case is a phrase built from the code's constants that must stand, word for word, in the text
that states it (line breaks and runs of spaces count as one space). Changing a constant without
the text, or the text without the constant, fails the case that names both.
"""

from __future__ import annotations

import re
from dataclasses import fields
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from adapters.onec.session import FAIL_FAST_SECONDS
from adapters.redis_store.coordination import (
    STALE_UPDATE_MS,
    TELEGRAM_PER_CHAT_PER_SECOND,
    TELEGRAM_PER_SECOND,
)
from adapters.redis_store.flow import CLAIM_SECONDS
from gateway.entrypoints.inbound import MAX_PUSH_BYTES, MAX_UPDATE_BYTES
from gateway.entrypoints.web import MAX_BODY_BYTES
from gateway.entrypoints.worker import LOCK_TTL_SECONDS
from gateway.presentation.cards import MAX_CARD_FIELDS
from gateway.settings import MIN_GATEWAY_SECRET_LENGTH, OneCBaseSettings, Settings, WorkHours
from gateway.usecases.commands import INVITE_TTL_SECONDS
from gateway.usecases.dispatch import FLOOD_NOTICE_SECONDS, INBOUND_LIMIT, INBOUND_WINDOW_SECONDS
from gateway.usecases.monitor import ONEC_DOWN_ALERT_AFTER
from gateway.usecases.outbox import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    LEASE_SECONDS,
    MAX_ATTEMPTS,
    PROBE_SECONDS,
)
from gateway.usecases.push import WINDOW_SECONDS

CHECKOUT = Path(__file__).resolve().parents[2]
KIB = 1024
MIB = 1024 * 1024
# Time spans the English and Russian texts write in words.
IN_WORDS = {60: "a minute", 3600: "an hour"}
IN_RUSSIAN_WORDS = {60: "в минуту", 3600: "в час"}


@cache
def text_of(relative: str) -> str:
    """The file's text with every run of white space (line breaks too) folded to one space."""
    return " ".join((CHECKOUT / relative).read_text(encoding="utf-8").split())


def backoff_seconds() -> float:
    """The outbox's waits between attempts before it dead-letters a decision, jitter left out:
    attempt n (from 1) is followed by min(cap, base * 2^(n-1)); the last attempt by none."""
    return sum(
        min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** (attempt - 1))
        for attempt in range(1, MAX_ATTEMPTS)
    )


def hours(seconds: float, decimal: str = ".") -> str:
    """Hours to one decimal, as the texts write them."""
    return f"{seconds / 3600:.1f}".replace(".", decimal)


# Each wait is scaled by a uniform factor in [0.5, 1.0] (`_retry_or_give_up`): 0.75 on average.
TYPICAL_BACKOFF = backoff_seconds() * 0.75
LONGEST_BACKOFF = backoff_seconds()
ALERT_MINUTES = int(ONEC_DOWN_ALERT_AFTER.total_seconds() // 60)

FIGURES = [
    # The decision outbox: retry schedule, lease, probe.
    (
        "gateway/usecases/outbox.py",
        f"MAX_ATTEMPTS: Final = {MAX_ATTEMPTS} # capped backoff with jitter: "
        f"about {hours(TYPICAL_BACKOFF)} hours of 1C downtime",
    ),
    (
        "docs/reliability.md",
        f"exponential backoff ({BACKOFF_BASE_SECONDS:g} s doubling, capped at "
        f"{BACKOFF_CAP_SECONDS / 60:g} min)",
    ),
    (
        "docs/reliability.md",
        f"after {MAX_ATTEMPTS} attempts (about {hours(TYPICAL_BACKOFF)} hours of backoff; "
        f"{hours(LONGEST_BACKOFF)} at most)",
    ),
    ("docs/reliability.md", f"(now {MAX_ATTEMPTS}, about {hours(TYPICAL_BACKOFF)} hours)"),
    ("docs/troubleshooting.md", f"(около {hours(TYPICAL_BACKOFF, ',')} часа)"),
    ("docs/reliability.md", f"holds the worker's token, {LEASE_SECONDS:g} s)"),
    ("docs/reliability.md", f"each worker asks 1C every {PROBE_SECONDS:g} s whether it is back"),
    ("docs/reliability.md", f"the outbox asked 1C every {PROBE_SECONDS:g} s"),
    ("docs/reliability.md", f"(every {PROBE_SECONDS:g} s while decisions wait"),
    ("docs/concurrency.md", f"asks 1C every {PROBE_SECONDS:g} s whether it is back"),
    # Leader locks and card claims.
    (
        "docs/reliability.md",
        f"a {LOCK_TTL_SECONDS:g} s TTL, renewed every {LOCK_TTL_SECONDS / 3:g} s by its owner",
    ),
    (
        "docs/concurrency.md",
        f"renews held locks every {LOCK_TTL_SECONDS / 3:g} s (TTL {LOCK_TTL_SECONDS:g} s)",
    ),
    ("docs/reliability.md", f"freed after {CLAIM_SECONDS} s if its worker died"),
    ("docs/reliability.md", f"card claims free after {CLAIM_SECONDS} s"),
    (
        "docs/reliability.md",
        f"a dead worker held is taken over after {IN_WORDS[STALE_UPDATE_MS // 1000]}",
    ),
    # Telegram's flood limits, as the shared limiter keeps them.
    (
        "docs/reliability.md",
        f"at most {TELEGRAM_PER_SECOND} so per bot and {TELEGRAM_PER_CHAT_PER_SECOND:g} per chat",
    ),
    (
        "docs/security.md",
        f"at most {TELEGRAM_PER_SECOND} bot-wide and {TELEGRAM_PER_CHAT_PER_SECOND:g} per chat",
    ),
    # 1C outages.
    ("docs/reliability.md", f"fail at once for {FAIL_FAST_SECONDS:g} s"),
    ("docs/reliability.md", f"1C calls fail fast for {FAIL_FAST_SECONDS:g} s"),
    ("docs/reliability.md", f"admins are alerted after {ALERT_MINUTES} minutes"),
    ("docs/troubleshooting.md", f"Через {ALERT_MINUTES} минут администраторам"),
    ("docs/admin-guide.md", f"1С недоступна {ALERT_MINUTES} минут"),
    # The inbound limit per Telegram user.
    (
        "docs/concurrency.md",
        f"a user's {INBOUND_LIMIT + 1}st update within {IN_WORDS[INBOUND_WINDOW_SECONDS]}",
    ),
    (
        "docs/concurrency.md",
        f"gets one polite notice {IN_WORDS[FLOOD_NOTICE_SECONDS]}",
    ),
    (
        "docs/security.md",
        f"past {INBOUND_LIMIT} {IN_WORDS[INBOUND_WINDOW_SECONDS]} are acknowledged and ignored, "
        f"with one notice {IN_WORDS[FLOOD_NOTICE_SECONDS]}",
    ),
    (
        "docs/admin-guide.md",
        f"больше {INBOUND_LIMIT} сообщений и нажатий кнопок "
        f"{IN_RUSSIAN_WORDS[INBOUND_WINDOW_SECONDS]}",
    ),
    ("docs/admin-guide.md", f"не чаще раза {IN_RUSSIAN_WORDS[FLOOD_NOTICE_SECONDS]}"),
    # Body limits of the web process.
    ("docs/security.md", f"{MAX_BODY_BYTES // MIB} MiB for any request"),
    (
        "docs/security.md",
        f"{MAX_UPDATE_BYTES // KIB} KiB for one Telegram update and for one push",
    ),
    ("docs/security.md", f"limits bodies to {MAX_BODY_BYTES // MIB} MiB"),
    (
        "docs/admin-guide.md",
        f"не больше {MAX_BODY_BYTES // MIB} МБ на запрос, {MAX_UPDATE_BYTES // KIB} КБ на одно "
        "обновление Telegram или один push",
    ),
    ("docs/admin-guide.md", f"тот же предел {MAX_BODY_BYTES // MIB} МБ"),
    (
        "deploy/nginx.conf",
        f"client_max_body_size {MAX_BODY_BYTES // MIB}m; # the gateway takes at most "
        f"{MAX_BODY_BYTES // MIB} MiB ({MAX_UPDATE_BYTES // KIB} KiB per update or push)",
    ),
    # Push signatures, admin invites, settings' ranges.
    ("docs/reliability.md", f"a {WINDOW_SECONDS // 60}-minute window both ways"),
    ("docs/onec-extension.md", f"больше чем на {WINDOW_SECONDS // 60} минут"),
    (
        "docs/admin-guide.md",
        f"`https://t.me/<бот>?start=admin-...`, действует {INVITE_TTL_SECONDS // 3600} часа",
    ),
    ("docs/settings.md", f"от 0 до {MAX_CARD_FIELDS}"),
    ("docs/settings.md", f"не короче {MIN_GATEWAY_SECRET_LENGTH} символов"),
]


@pytest.mark.parametrize(("relative", "phrase"), FIGURES)
def test_the_text_states_the_figure_the_constants_give(relative: str, phrase: str) -> None:
    assert phrase in text_of(relative)


def test_the_push_limit_is_the_update_limit_the_docs_name_once_for_both() -> None:
    assert MAX_PUSH_BYTES == MAX_UPDATE_BYTES


def test_the_backoff_reaches_its_cap_well_before_the_last_attempt() -> None:
    """Hence "about" in the texts: most of the time is spent at the cap."""
    capped_from = next(
        n
        for n in range(1, MAX_ATTEMPTS)
        if BACKOFF_BASE_SECONDS * 2 ** (n - 1) >= BACKOFF_CAP_SECONDS
    )
    assert capped_from < MAX_ATTEMPTS / 2


# --- docs/settings.md: the default column ------------------------------------------------------

DEFAULT_ROW = re.compile(r"^\| `([A-Z_]+)` \| `([^`]*)` \|", re.MULTILINE)
REQUIRED = {
    "ONEC_BASE_URL": "http://onec.example/uh",
    "TELEGRAM_BOT_TOKEN": "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    "GATEWAY_SECRET": "a-long-enough-test-secret",
}
# Rows for processes the settings module does not read (systemd units set them).
NOT_SETTINGS = {"GUNICORN_BIND"}


def shown(value: Any) -> str:
    """A setting's value as the reference's default column writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, WorkHours):
        return f"{value.start:02d}-{value.end:02d}"
    if hasattr(value, "reveal"):
        return str(value.reveal())
    return str(value)


def documented_defaults() -> list[tuple[str, str]]:
    text = (CHECKOUT / "docs" / "settings.md").read_text(encoding="utf-8")
    return [(n, d) for n, d in DEFAULT_ROW.findall(text) if n not in NOT_SETTINGS]


def test_the_settings_reference_states_defaults() -> None:
    assert len(documented_defaults()) >= 15


@pytest.mark.parametrize(("name", "default"), documented_defaults())
def test_a_default_in_the_settings_reference_is_the_one_the_code_uses(
    name: str, default: str
) -> None:
    settings = Settings.from_env(REQUIRED)
    # A 1C setting (ONEC_<X>) is a field of each base's settings; the rest are the gateway's.
    holder: Settings | OneCBaseSettings = settings
    field = name.lower()
    if name.startswith("ONEC_"):
        holder, field = settings.first_base, name.removeprefix("ONEC_").lower()
    assert field in {f.name for f in fields(holder)}, f"{name} is no setting"
    expected = default.replace("<ONEC_BASE_URL>", REQUIRED["ONEC_BASE_URL"])
    assert shown(getattr(holder, field)) == expected
