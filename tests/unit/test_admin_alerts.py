"""Admin alerts in Telegram (design 6.10, issue 9), with the shared fakes of the ports.

1C unreachable for five minutes and back; sync failing repeatedly (once per failure streak);
a decision dead-lettered; an approver who blocked the bot. Only admins get them.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from gateway.domain.infobases import Infobase
from gateway.domain.records import DecisionRequest, MessageRef, OutboxEntry, UserLink
from gateway.domain.tasks import Decision
from gateway.errors import (
    AuthenticationFailed,
    UpstreamUnavailable,
)
from gateway.masking import SecretMask
from gateway.usecases import cards_io
from gateway.usecases.context import FlowContext
from gateway.usecases.monitor import ONEC_DOWN_ALERT_AFTER, SYNC_FAILURE_ALERT_AFTER, monitored_sync
from gateway.usecases.outbox import MAX_ATTEMPTS, apply
from tests.factories import make_link, make_task
from tests.fakes import FakeMessenger, FakeOneC, InMemoryStore, ManualClock, make_context

MSK = timezone(timedelta(hours=3))
START = datetime(2026, 11, 27, 10, 0, tzinfo=MSK)
ADMIN_CHAT = 100
OTHER_ADMIN_CHAT = 101
APPROVER_CHAT = 200


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def messenger() -> FakeMessenger:
    return FakeMessenger()


@pytest.fixture
def store() -> InMemoryStore:
    return stored(make_link(ADMIN_CHAT, admin=True), make_link(APPROVER_CHAT))


@pytest.fixture
def onec() -> FakeOneC:
    return FakeOneC()


@pytest.fixture
def ctx(
    store: InMemoryStore, onec: FakeOneC, messenger: FakeMessenger, clock: ManualClock
) -> FlowContext:
    return make_context(store, onec=onec, messenger=messenger, now=clock)


def stored(*links: UserLink) -> InMemoryStore:
    store = InMemoryStore()
    for link in links:
        store.save_link(link)
    return store


def leased(store: InMemoryStore, entry: OutboxEntry) -> str:
    """The entry in the outbox (if it is not there yet) and a worker's lease on it."""
    store.enqueue(entry)
    lease = store.claim(entry.id, math.inf, 60)
    assert lease is not None
    return lease


def alerts(messenger: FakeMessenger, marker: str, chat: int = ADMIN_CHAT) -> list[str]:
    return [text for text in messenger.to(chat) if marker in text]


# --- 1C unreachable -----------------------------------------------------------------------------


def test_1c_down_alerts_admins_once_after_five_minutes_and_once_when_back(
    ctx: FlowContext, onec: FakeOneC, messenger: FakeMessenger, clock: ManualClock
) -> None:
    onec.error = UpstreamUnavailable("1C", "connection refused")
    for minutes in (0, 1, 4):
        clock.now = START + timedelta(minutes=minutes)
        monitored_sync(ctx)
    assert alerts(messenger, "1С недоступна") == []
    for minutes in (5, 6, 30):
        clock.now = START + ONEC_DOWN_ALERT_AFTER + timedelta(minutes=minutes - 5)
        monitored_sync(ctx)
    down = alerts(messenger, "1С недоступна")
    assert len(down) == 1
    assert "27.11.2026 10:00" in down[0] and "connection refused" in down[0]
    onec.error = None
    monitored_sync(ctx)
    monitored_sync(ctx)
    assert len(alerts(messenger, "1С снова доступна")) == 1


def test_a_short_1c_outage_alerts_nobody(
    ctx: FlowContext, onec: FakeOneC, messenger: FakeMessenger, clock: ManualClock
) -> None:
    onec.error = UpstreamUnavailable("1C", "timed out")
    monitored_sync(ctx)
    clock.now = START + timedelta(minutes=4)
    monitored_sync(ctx)
    onec.error = None
    monitored_sync(ctx)
    assert messenger.texts() == []


def test_only_admins_get_alerts_and_an_unreachable_admin_does_not_stop_the_others(
    onec: FakeOneC, clock: ManualClock
) -> None:
    store = stored(
        make_link(ADMIN_CHAT, admin=True),
        make_link(OTHER_ADMIN_CHAT, admin=True),
        make_link(APPROVER_CHAT),
    )
    messenger = FakeMessenger(blocked={ADMIN_CHAT})
    ctx = make_context(store, onec=onec, messenger=messenger, now=clock)
    onec.error = UpstreamUnavailable("1C", "connection refused")
    monitored_sync(ctx)
    clock.now = START + ONEC_DOWN_ALERT_AFTER
    monitored_sync(ctx)
    assert len(alerts(messenger, "1С недоступна", OTHER_ADMIN_CHAT)) == 1
    assert messenger.to(APPROVER_CHAT) == []


# --- sync failing repeatedly ----------------------------------------------------------------------


def test_sync_failing_repeatedly_alerts_exactly_once_per_failure_streak(
    ctx: FlowContext, onec: FakeOneC, messenger: FakeMessenger, store: InMemoryStore
) -> None:
    onec.error = AuthenticationFailed("1C answered its login page")
    for _ in range(SYNC_FAILURE_ALERT_AFTER - 1):
        monitored_sync(ctx)
    assert alerts(messenger, "Синхронизация с 1С не удаётся") == []
    for _ in range(3 * SYNC_FAILURE_ALERT_AFTER):
        monitored_sync(ctx)
    assert len(alerts(messenger, "Синхронизация с 1С не удаётся")) == 1
    assert store.get_status()["sync_failures"] == str(4 * SYNC_FAILURE_ALERT_AFTER - 1)

    onec.error = None
    monitored_sync(ctx)  # the streak ends
    assert "sync_failures" not in store.get_status()
    onec.error = AuthenticationFailed("1C answered its login page")
    for _ in range(SYNC_FAILURE_ALERT_AFTER + 2):
        monitored_sync(ctx)
    assert len(alerts(messenger, "Синхронизация с 1С не удаётся")) == 2  # a new streak


def test_a_1c_outage_within_a_failure_streak_does_not_alert_it_twice(
    ctx: FlowContext, onec: FakeOneC, messenger: FakeMessenger
) -> None:
    for _ in range(2):
        onec.error = AuthenticationFailed("login page")
        for _ in range(SYNC_FAILURE_ALERT_AFTER):
            monitored_sync(ctx)
        onec.error = UpstreamUnavailable("1C", "connection refused")
        monitored_sync(ctx)
    assert len(alerts(messenger, "Синхронизация с 1С не удаётся")) == 1


# --- dead letters and blocked users -------------------------------------------------------------


def test_a_dead_lettered_decision_alerts_admins_with_who_and_what(
    ctx: FlowContext, onec: FakeOneC, messenger: FakeMessenger, store: InMemoryStore
) -> None:
    request = DecisionRequest(
        task_id="task-9",
        decision=Decision.APPROVE,
        comment="",
        user_id="onec-200",
        user_name="Морозов Дмитрий Олегович",
        idempotency_key="tg-key-9",
        requested_at=START,
        telegram_user_id=APPROVER_CHAT,
        message=MessageRef(APPROVER_CHAT, 5),
    )
    entry = OutboxEntry(request, "Заявка 0000-000042", True)
    onec.outcome = UpstreamUnavailable("1C", "connection refused")
    apply(ctx, replace(entry, attempts=MAX_ATTEMPTS - 2), leased(store, entry))
    assert store.dead(10) == [] and alerts(messenger, "не передано в 1С") == []
    apply(ctx, replace(entry, attempts=MAX_ATTEMPTS - 1), leased(store, entry))
    dead = [(e.id, e.last_error) for e in store.dead(10)]
    assert dead == [("tg-key-9", "1C is unavailable: connection refused")]
    [alert] = alerts(messenger, "не передано в 1С")
    assert "Согласовать" in alert and "Заявка 0000-000042" in alert and "Морозов" in alert
    assert messenger.to(APPROVER_CHAT)  # the approver is told to decide in 1C


def test_an_approver_who_blocked_the_bot_is_reported_to_admins(
    ctx: FlowContext, store: InMemoryStore
) -> None:
    messenger = FakeMessenger(blocked={APPROVER_CHAT})
    ctx.messenger = messenger
    blocked = make_link(APPROVER_CHAT, name="Волков Андрей Сергеевич")
    task = make_task()
    assert cards_io.deliver(ctx, task, blocked) is False
    [alert] = alerts(messenger, "заблокировал бота")
    assert "Волков Андрей Сергеевич" in alert and "Согласовать заявку 0000-000042" in alert
    # Released: a later pass may try again once unblocked.
    assert store.claim_delivery(task.id, APPROVER_CHAT, task.version)


def test_a_secret_quoted_by_a_failing_1c_reaches_neither_the_alerts_nor_the_status(
    ctx: FlowContext,
    onec: FakeOneC,
    messenger: FakeMessenger,
    store: InMemoryStore,
    clock: ManualClock,
) -> None:
    password = "пароль-1С-s3cret"
    ctx = replace(ctx, mask=SecretMask([password]))
    onec.error = AuthenticationFailed(f"1C refused user Шлюз with password {password}")
    for _ in range(SYNC_FAILURE_ALERT_AFTER):
        monitored_sync(ctx)
    onec.error = UpstreamUnavailable("1C", f"proxy said: GET /uh?password={quote(password)}")
    monitored_sync(ctx)
    clock.now = START + ONEC_DOWN_ALERT_AFTER
    monitored_sync(ctx)
    sent = messenger.texts()
    assert alerts(messenger, "Синхронизация с 1С не удаётся")
    assert alerts(messenger, "1С недоступна")
    for text in [*sent, *store.get_status().values()]:
        assert password not in text and quote(password) not in text


def test_a_named_base_down_alerts_its_admins_naming_the_base_and_its_status_only(
    messenger: FakeMessenger, clock: ManualClock
) -> None:
    """With several bases each flow has its own status; the alert says which base is down."""
    down_onec, up_onec = FakeOneC(), FakeOneC()
    down_onec.error = UpstreamUnavailable("1C", "connection refused")
    erp_store, uh_store = (stored(make_link(ADMIN_CHAT, admin=True)) for _ in range(2))
    erp = make_context(
        erp_store, onec=down_onec, messenger=messenger, now=clock, base=Infobase("erp", "ERP")
    )
    uh = make_context(
        uh_store, onec=up_onec, messenger=messenger, now=clock, base=Infobase("uh", "УХ")
    )
    monitored_sync(erp)
    monitored_sync(uh)
    clock.now = START + ONEC_DOWN_ALERT_AFTER
    monitored_sync(erp)
    monitored_sync(uh)
    [down] = alerts(messenger, "1С недоступна")
    assert "ERP" in down and "УХ" not in down
    assert erp_store.get_status()["onec_down_since"]
    assert not uh_store.get_status().get("onec_down_since")
    assert uh_store.get_status()["last_sync_at"]
