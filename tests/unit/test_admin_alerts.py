"""Admin alerts in Telegram (design 6.10, issue 9), with hand-written fakes of the ports.

1C unreachable for five minutes and back; sync failing repeatedly (once per failure streak);
a decision dead-lettered; an approver who blocked the bot. Only admins get them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from gateway.domain.records import DecisionRequest, MessageRef, OutboxEntry, UserLink
from gateway.domain.tasks import Decision
from gateway.errors import (
    AuthenticationFailed,
    GatewayError,
    RecipientBlocked,
    UpstreamUnavailable,
)
from gateway.masking import SecretMask
from gateway.ports.messenger import Sent
from gateway.presentation.texts import Texts
from gateway.usecases import cards_io
from gateway.usecases.context import FlowContext
from gateway.usecases.monitor import ONEC_DOWN_ALERT_AFTER, SYNC_FAILURE_ALERT_AFTER, monitored_sync
from gateway.usecases.outbox import MAX_ATTEMPTS, apply
from tests.unit.test_documents import CountingRenderer, make_task

MSK = timezone(timedelta(hours=3))
START = datetime(2026, 11, 27, 10, 0, tzinfo=MSK)
ADMIN_CHAT = 100
OTHER_ADMIN_CHAT = 101
APPROVER_CHAT = 200


def link(chat_id: int, *, admin: bool = False, name: str = "Морозов Дмитрий Олегович") -> UserLink:
    return UserLink(
        telegram_user_id=chat_id,
        chat_id=chat_id,
        onec_user_id=f"onec-{chat_id}",
        onec_user_name=name,
        phone="79120000000",
        linked_at=START,
        is_admin=admin,
    )


class FakeStore:
    """The parts of the Store the alerting paths use, in memory."""

    def __init__(self, links: list[UserLink]) -> None:
        self.links = links
        self.status: dict[str, str] = {}
        self.claimed: set[tuple[str, int, str]] = set()
        self.dead: dict[str, str] = {}
        self.rescheduled: list[str] = []

    def get_status(self) -> dict[str, str]:
        return dict(self.status)

    def set_status(self, **fields: str) -> None:
        for name, value in fields.items():
            if value:
                self.status[name] = value
            else:
                self.status.pop(name, None)

    def all_links(self) -> list[UserLink]:
        return list(self.links)

    def tracked_tasks(self) -> set[str]:
        return set()

    def claim_delivery(self, task_id: str, chat_id: int, version: str) -> bool:
        key = (task_id, chat_id, version)
        if key in self.claimed:
            return False
        self.claimed.add(key)
        return True

    def close_delivery(self, task_id: str, chat_id: int) -> None:
        self.claimed = {c for c in self.claimed if c[:2] != (task_id, chat_id)}

    def save_delivery(self, delivery: object) -> None:
        pass

    def remember_message(self, ref: MessageRef, task_id: str) -> None:
        pass

    def get_delivery(self, task_id: str, chat_id: int) -> None:
        return None

    def dead_letter(self, entry_id: str, lease: str, error: str) -> bool:
        self.dead[entry_id] = error
        return True

    def reschedule(
        self, entry_id: str, lease: str, attempts: int, next_at: float, error: str
    ) -> bool:
        self.rescheduled.append(entry_id)
        return True

    def complete(self, entry_id: str, lease: str) -> bool:
        return True


class FakeOneC:
    """1C that fails with `error` while it is set, and otherwise has no pending tasks."""

    def __init__(self) -> None:
        self.error: GatewayError | None = None

    def pending_tasks(self) -> list:
        if self.error:
            raise self.error
        return []

    def submit_decision(self, request: DecisionRequest) -> None:
        raise UpstreamUnavailable("1C", "connection refused")

    def print_form(self, task: object) -> None:
        return None


class FakeMessenger:
    """Records every text per chat; chats in `blocked` raise RecipientBlocked."""

    def __init__(self, blocked: tuple[int, ...] = ()) -> None:
        self.texts: list[tuple[int, str]] = []
        self.blocked = blocked
        self.next_id = 1

    def _sent(self, chat_id: int) -> Sent:
        if chat_id in self.blocked:
            raise RecipientBlocked("Telegram", "403", "Forbidden: bot was blocked by the user")
        self.next_id += 1
        return Sent(MessageRef(chat_id, self.next_id))

    def send_text(self, chat_id: int, html: str, markup=None, reply_to=None) -> Sent:
        sent = self._sent(chat_id)
        self.texts.append((chat_id, html))
        return sent

    def send_document(self, chat_id: int, document, caption_html: str, markup=None) -> Sent:
        return self._sent(chat_id)

    def to(self, chat_id: int) -> list[str]:
        return [text for chat, text in self.texts if chat == chat_id]


class FakeDocuments:
    def get_pdf(self, key: str) -> None:
        return None

    def put_pdf(self, key: str, content: bytes) -> None:
        pass

    def get_file_id(self, key: str) -> None:
        return None

    def put_file_id(self, key: str, file_id: str) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def messenger() -> FakeMessenger:
    return FakeMessenger()


@pytest.fixture
def store() -> FakeStore:
    return FakeStore([link(ADMIN_CHAT, admin=True), link(APPROVER_CHAT)])


@pytest.fixture
def onec() -> FakeOneC:
    return FakeOneC()


@pytest.fixture
def ctx(store: FakeStore, onec: FakeOneC, messenger: FakeMessenger, clock: Clock) -> FlowContext:
    return FlowContext.over(
        onec=onec,  # type: ignore[arg-type]
        messenger=messenger,  # type: ignore[arg-type]
        store=store,  # type: ignore[arg-type]
        renderer=CountingRenderer(),  # type: ignore[arg-type]
        documents=FakeDocuments(),  # type: ignore[arg-type]
        texts=Texts("ru"),
        secret="unit-test-secret-0123456789",
        now=clock,
    )


def alerts(messenger: FakeMessenger, marker: str, chat: int = ADMIN_CHAT) -> list[str]:
    return [text for text in messenger.to(chat) if marker in text]


# --- 1C unreachable -----------------------------------------------------------------------------


def test_1c_down_alerts_admins_once_after_five_minutes_and_once_when_back(
    ctx: FlowContext, onec: FakeOneC, messenger: FakeMessenger, clock: Clock
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
    ctx: FlowContext, onec: FakeOneC, messenger: FakeMessenger, clock: Clock
) -> None:
    onec.error = UpstreamUnavailable("1C", "timed out")
    monitored_sync(ctx)
    clock.now = START + timedelta(minutes=4)
    monitored_sync(ctx)
    onec.error = None
    monitored_sync(ctx)
    assert messenger.texts == []


def test_only_admins_get_alerts_and_an_unreachable_admin_does_not_stop_the_others(
    onec: FakeOneC, clock: Clock
) -> None:
    store = FakeStore(
        [link(ADMIN_CHAT, admin=True), link(OTHER_ADMIN_CHAT, admin=True), link(APPROVER_CHAT)]
    )
    messenger = FakeMessenger(blocked=(ADMIN_CHAT,))
    ctx = FlowContext.over(
        onec=onec,  # type: ignore[arg-type]
        messenger=messenger,  # type: ignore[arg-type]
        store=store,  # type: ignore[arg-type]
        renderer=CountingRenderer(),  # type: ignore[arg-type]
        documents=FakeDocuments(),  # type: ignore[arg-type]
        texts=Texts("ru"),
        secret="unit-test-secret-0123456789",
        now=clock,
    )
    onec.error = UpstreamUnavailable("1C", "connection refused")
    monitored_sync(ctx)
    clock.now = START + ONEC_DOWN_ALERT_AFTER
    monitored_sync(ctx)
    assert len(alerts(messenger, "1С недоступна", OTHER_ADMIN_CHAT)) == 1
    assert messenger.to(APPROVER_CHAT) == []


# --- sync failing repeatedly ----------------------------------------------------------------------


def test_sync_failing_repeatedly_alerts_exactly_once_per_failure_streak(
    ctx: FlowContext, onec: FakeOneC, messenger: FakeMessenger, store: FakeStore
) -> None:
    onec.error = AuthenticationFailed("1C answered its login page")
    for _ in range(SYNC_FAILURE_ALERT_AFTER - 1):
        monitored_sync(ctx)
    assert alerts(messenger, "Синхронизация с 1С не удаётся") == []
    for _ in range(3 * SYNC_FAILURE_ALERT_AFTER):
        monitored_sync(ctx)
    assert len(alerts(messenger, "Синхронизация с 1С не удаётся")) == 1
    assert store.status["sync_failures"] == str(4 * SYNC_FAILURE_ALERT_AFTER - 1)

    onec.error = None
    monitored_sync(ctx)  # the streak ends
    assert "sync_failures" not in store.status
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
    ctx: FlowContext, messenger: FakeMessenger, store: FakeStore
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
    apply(ctx, replace(entry, attempts=MAX_ATTEMPTS - 2), "lease")
    assert store.dead == {} and alerts(messenger, "не передано в 1С") == []
    apply(ctx, replace(entry, attempts=MAX_ATTEMPTS - 1), "lease")
    assert store.dead == {"tg-key-9": "1C is unavailable: connection refused"}
    [alert] = alerts(messenger, "не передано в 1С")
    assert "Согласовать" in alert and "Заявка 0000-000042" in alert and "Морозов" in alert
    assert messenger.to(APPROVER_CHAT)  # the approver is told to decide in 1C


def test_an_approver_who_blocked_the_bot_is_reported_to_admins(
    ctx: FlowContext, store: FakeStore
) -> None:
    messenger = FakeMessenger(blocked=(APPROVER_CHAT,))
    ctx.messenger = messenger  # type: ignore[assignment]
    blocked = link(APPROVER_CHAT, name="Волков Андрей Сергеевич")
    assert cards_io.deliver(ctx, make_task(), blocked) is False
    [alert] = alerts(messenger, "заблокировал бота")
    assert "Волков Андрей Сергеевич" in alert and "Согласовать заявку 0000-000042" in alert
    assert store.claimed == set()  # released: a later pass may try again once unblocked


def test_a_secret_quoted_by_a_failing_1c_reaches_neither_the_alerts_nor_the_status(
    ctx: FlowContext, onec: FakeOneC, messenger: FakeMessenger, store: FakeStore, clock: Clock
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
    sent = [text for _, text in messenger.texts]
    assert alerts(messenger, "Синхронизация с 1С не удаётся")
    assert alerts(messenger, "1С недоступна")
    for text in [*sent, *store.status.values()]:
        assert password not in text and quote(password) not in text
