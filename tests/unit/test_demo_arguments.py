"""The demo launcher passes its generated values so that none can be read as an option."""

from __future__ import annotations

from sandbox.demo.launcher import onec_push_args
from sandbox.onec.cli import parse


def test_a_push_secret_that_starts_with_a_dash_reaches_the_1c_emulator_whole() -> None:
    secret = "-Zq3_generated-by-token_urlsafe"
    args = parse(onec_push_args("http://127.0.0.1:8080/onec/events", secret))
    assert args.push_secret == secret
    assert args.push_url == "http://127.0.0.1:8080/onec/events"
