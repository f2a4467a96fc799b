"""docs/settings.md and the settings example cannot drift from the settings module (issue 19).

Every variable `gateway/settings.py` reads is in the reference's tables and in
`config/gateway.env.example`, and neither names a setting the code does not read.
"""

from __future__ import annotations

import re
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
SETTING = re.compile(r"\b((?:ONEC|TELEGRAM|REDIS|GATEWAY|PDF|LOG|REMIND|WORK)_[A-Z_]*[A-Z])\b")


def read_by_code() -> set[str]:
    source = (CHECKOUT / "gateway" / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r'"' + SETTING.pattern[2:-2] + r'"', source))


def documented() -> set[str]:
    text = (CHECKOUT / "docs" / "settings.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in SETTING.findall(row.split("|")[1])}


def in_example() -> set[str]:
    text = (CHECKOUT / "config" / "gateway.env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Z_]+)=", text, flags=re.MULTILINE))


def test_every_setting_the_code_reads_is_in_the_reference() -> None:
    assert read_by_code() - documented() == set()


def test_the_reference_names_no_setting_the_code_does_not_read() -> None:
    assert documented() - read_by_code() == set()


def test_the_settings_example_holds_exactly_the_settings_the_code_reads() -> None:
    assert in_example() == read_by_code()


def test_the_reference_covers_the_settings_this_issue_added() -> None:
    assert {"TELEGRAM_PROXY_URL", "ONEC_CA_BUNDLE", "ONEC_VERIFY_TLS", "PDF_ENGINE"} <= (
        documented() & in_example()
    )
