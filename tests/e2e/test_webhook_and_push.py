"""Webhook mode and 1C's push, end to end: the web process stores what arrives, the worker acts.

The web app runs on a real HTTP server; the Telegram emulator delivers updates to its webhook
with the secret header, and the 1C emulator pushes signed events to POST /onec/events. The sync
interval is long, so only the push can make a new task arrive quickly.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from gateway.bootstrap import Gateway, build
from gateway.entrypoints.web import create_app
from gateway.entrypoints.worker import Worker
from gateway.settings import Settings
from sandbox.onec import harness as onec_harness
from sandbox.onec.harness import RunningSandbox
from sandbox.telegram.harness import SandboxServer
from tests.e2e.conftest import Approver

HOOK_SECRET = "e2e_hook_secret"
PUSH_SECRET = "e2e-onec-push-secret-0123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def web_port() -> int:
    return free_port()


@pytest.fixture
def pushing_onec(web_port: int) -> Iterator[RunningSandbox]:
    """A 1C emulator that pushes its events to the gateway's web process."""
    with onec_harness.running(
        push_url=f"http://127.0.0.1:{web_port}/onec/events", push_secret=PUSH_SECRET
    ) as instance:
        yield instance


@pytest.fixture
def stack(
    env: dict[str, str], telegram: SandboxServer, pushing_onec: RunningSandbox, web_port: int
) -> Iterator[tuple[Gateway, Worker]]:
    settings = Settings.from_env(
        {
            **env,
            "ONEC_BASE_URL": pushing_onec.base_url,
            "ONEC_USERNAME": pushing_onec.config.user,
            "ONEC_PASSWORD": pushing_onec.config.password,
            "ONEC_CONNECTOR": "http",
            "ONEC_POLL_INTERVAL": "120",
            "TELEGRAM_API_URL": telegram.url,
            "TELEGRAM_MODE": "webhook",
            "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{web_port}/telegram/webhook",
            "TELEGRAM_WEBHOOK_SECRET": HOOK_SECRET,
            "ONEC_PUSH_SECRET": PUSH_SECRET,
        }
    )
    web_gateway = build(settings)
    server = make_server("127.0.0.1", web_port, create_app(gateway=web_gateway), threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    gateway = build(settings)
    gateway.telegram.set_webhook(settings.telegram_webhook_url, HOOK_SECRET)
    worker = Worker(gateway)
    worker.start()
    yield gateway, worker
    worker.stop()
    gateway.close()
    server.shutdown()
    server.server_close()
    web_gateway.close()


@pytest.fixture
def approver(telegram: SandboxServer, pushing_onec: RunningSandbox) -> Approver:
    user = pushing_onec.client.user("Морозов")
    telegram.client.create_user(
        7001, first_name="Дмитрий", last_name="Морозов", phone=user["phones"][0]
    )
    return Approver(telegram, pushing_onec, 7001, user)


def test_in_webhook_mode_updates_reach_the_worker_through_the_web_process(
    stack: Any, approver: Approver, telegram: SandboxServer
) -> None:
    approver.connect()
    info = telegram.client.calls("setWebhook")
    assert info, "the webhook was not set"
    assert telegram.client.calls("getUpdates") == []  # nobody polls in webhook mode


def test_a_push_from_1c_delivers_a_new_task_without_waiting_for_the_interval(
    stack: Any, approver: Approver, pushing_onec: RunningSandbox
) -> None:
    approver.connect()
    pushing_onec.client.create_approval(
        route=[approver.onec_user["id"]],
        initiator=pushing_onec.client.user("Иванов")["id"],
        fields={"СуммаДокумента": "1000", "НазначениеПлатежа": "Срочная оплата по push"},
    )
    card = approver.card("Срочная оплата по push")  # within seconds, the interval is 120 s
    update = approver.press(card["message_id"], "Согласовать")
    assert "Принято" in approver.answer_to(update)["text"]
