"""Telegram's flood limits under the strictest plausible counting (issue 17, point 9).

The Telegram emulator's strict mode allows at most 30 sends in ANY sliding second bot-wide and
one in any second per chat. A relay of 300 cards to 60 approvers by a real worker, with the
gateway's own limiter, must draw no 429 at all: counted, not timed.
"""

from __future__ import annotations

import pytest

from bench.population import make_approvers, spread_tasks
from gateway.entrypoints.worker import Worker
from sandbox.onec.harness import RunningSandbox
from sandbox.telegram.harness import SandboxServer
from tests.e2e.conftest import wait_for

CARDS = 300
APPROVERS = 60
DOCUMENTS = 60
SENDS = ("sendDocument", "sendMessage")
RELAY_SECONDS = 180.0  # a bound for a loaded machine, not a measure (the bench measures)


@pytest.mark.parametrize("connector", ["http"])
def test_a_relay_of_300_cards_draws_no_429_from_a_strict_telegram(
    telegram: SandboxServer, onec: RunningSandbox, worker: Worker
) -> None:
    telegram.client.set_flood(30, 1, mode="strict")
    approvers = make_approvers(onec, telegram, worker.store, APPROVERS)
    spread_tasks(onec, approvers, CARDS, DOCUMENTS)
    chats = {a.chat_id for a in approvers}

    def sends() -> list[dict]:
        calls = telegram.client.calls()
        return [c for c in calls if c["method"] in SENDS and c["params"].get("chat_id") in chats]

    def delivered() -> bool:
        return sum(1 for c in sends() if c["status"] == 200) >= CARDS

    wait_for(delivered, f"{CARDS} cards delivered", timeout=RELAY_SECONDS, interval=0.5)
    refused = [c for c in sends() if c["status"] == 429]
    assert refused == []
    assert worker.gateway.messenger.rate_limited == 0
