"""Tasks addressed to roles, other tasks, and 1C's users groups in the flow (design 5.5, 6.11).

The store is the real Redis adapter; 1C, Telegram and the PDF engine are hand-written fakes of
our own ports, so each rule is shown on the flow's own decisions: every candidate gets the card,
the first decision wins and the other cards say who decided, a register change reaches the cards
in one pass, other tasks come without buttons (or not at all), a cancelled role task is
announced to every candidate, and the users groups decide who may connect and who is admin.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import pytest

from adapters.redis_store import RedisStore, connect
from gateway.domain.incoming import Contact, IncomingMessage, IncomingPress
from gateway.domain.records import DecisionRequest, MessageRef, UserLink
from gateway.domain.tasks import (
    Decision,
    OneCUser,
    Person,
    Result,
    Task,
    TaskKind,
    TaskState,
)
from gateway.errors import AlreadyCompleted, NotFound, NotPerformer
from gateway.ports.messenger import Attachment, Keyboard, Markup, Sent
from gateway.presentation import callbacks
from gateway.usecases.commands import run as run_command
from gateway.usecases.context import FlowContext
from gateway.usecases.dispatch import handle
from gateway.usecases.outbox import OutboxRunner
from gateway.usecases.press import on_press
from gateway.usecases.sync import sync_pass
from tests.conftest import redis_context
from tests.factories import make_task

URL = "redis://127.0.0.1:6379/0"
MSK = timezone(timedelta(hours=3))
NOW = datetime(2026, 11, 27, 11, 0, tzinfo=MSK)
SECRET = "integration-test-secret-0123456789"
ROLE = Person("role-fd", "Финансовый директор")
PEOPLE = {
    "u-1": Person("u-1", "Иванова Мария Сергеевна"),
    "u-2": Person("u-2", "Петров Пётр Петрович"),
    "u-3": Person("u-3", "Сидорова Анна Ивановна"),
    "u-4": Person("u-4", "Кузнецов Олег Андреевич"),
}
CHAT = {"u-1": 501, "u-2": 502, "u-3": 503, "u-4": 504}
PHONE = {"u-1": "79120000001", "u-2": "79120000002", "u-3": "79120000003", "u-4": "79120000004"}


def role_task(
    task_id: str = "task-role", *candidates: str, kind: TaskKind = TaskKind.APPROVAL
) -> Task:
    return dataclasses.replace(
        make_task(task_id),
        performer=None,
        role=ROLE,
        candidates=tuple(PEOPLE[c] for c in candidates or ("u-1", "u-2", "u-3")),
        kind=kind,
        allowed_decisions=(Decision.APPROVE, Decision.RETURN_INITIATOR),
    )


class Infobase:
    """1C as the flow sees it: tasks by id, users by phone, users groups, decisions written."""

    def __init__(self) -> None:
        self.tasks: dict[str, Task] = {}
        self.groups: dict[str, frozenset[str]] = {}
        self.group_reads = 0
        self.written: list[DecisionRequest] = []

    def ping(self) -> None:
        pass

    def pending_tasks(self) -> list[Task]:
        return [t for t in self.tasks.values() if t.is_pending]

    def get_task(self, task_id: str) -> Task:
        if task_id not in self.tasks:
            raise NotFound("1C", "not_found", task_id)
        return self.tasks[task_id]

    def find_users_by_phone(self, phone: str) -> Sequence[OneCUser]:
        return [
            OneCUser(p.id, p.name, (PHONE[p.id],))
            for p in PEOPLE.values()
            if PHONE[p.id] == phone.removeprefix("+")  # the gateway asks for "+<digits>"
        ]

    def print_form(self, task: Task) -> bytes | None:
        return None

    def group_members(self, name: str) -> frozenset[str]:
        self.group_reads += 1
        return self.groups.get(name, frozenset())

    def submit_decision(self, request: DecisionRequest) -> Task:
        task = self.tasks[request.task_id]
        if not task.is_pending:
            raise AlreadyCompleted("1C", "the task is done", task)
        if not task.is_approval or not task.may_decide(request.user_id):
            raise NotPerformer("1C", "not_performer", "not a candidate")
        self.written.append(request)
        done = dataclasses.replace(
            task,
            state=TaskState.COMPLETED,
            performer=PEOPLE[request.user_id],
            candidates=(),
            result=Result(request.decision, request.comment, request.user_id, NOW),
        )
        self.tasks[task.id] = done
        return done


@dataclasses.dataclass
class Shown:
    """A message as the chat shows it now."""

    text: str
    keyboard: Keyboard
    document: bool


class Chats:
    """Telegram: every message per chat as it looks after edits, and the press answers."""

    def __init__(self) -> None:
        self.messages: dict[MessageRef, Shown] = {}
        self.answers: dict[str, tuple[str, bool]] = {}
        self.next_id = 100

    def ping(self) -> None:
        pass

    def _add(self, chat_id: int, text: str, markup: Markup | None, document: bool) -> Sent:
        self.next_id += 1
        ref = MessageRef(chat_id, self.next_id)
        keyboard = list(markup) if isinstance(markup, list) else []
        self.messages[ref] = Shown(text, keyboard, document)
        return Sent(ref, file_id="file-1" if document else None)

    def send_text(
        self, chat_id: int, html: str, markup: Markup | None = None, reply_to: int | None = None
    ) -> Sent:
        return self._add(chat_id, html, markup, False)

    def send_document(
        self, chat_id: int, document: Attachment, caption_html: str, markup: Markup | None = None
    ) -> Sent:
        return self._add(chat_id, caption_html, markup, True)

    def edit(
        self, ref: MessageRef, html: str, *, is_caption: bool, keyboard: Keyboard = ()
    ) -> None:
        self.messages[ref] = Shown(html, list(keyboard), self.messages[ref].document)

    def answer_callback(self, callback_id: str, text: str = "", alert: bool = False) -> None:
        self.answers[callback_id] = (text, alert)

    def set_commands(self, commands: Sequence[tuple[str, str]]) -> None:
        pass

    def of(self, chat_id: int) -> list[tuple[MessageRef, Shown]]:
        return sorted(
            ((ref, shown) for ref, shown in self.messages.items() if ref.chat_id == chat_id),
            key=lambda item: item[0].message_id,
        )

    def cards(self, chat_id: int) -> list[tuple[MessageRef, Shown]]:
        """Messages of the chat that show a task (they start with its title)."""
        return [(r, s) for r, s in self.of(chat_id) if s.text.startswith("<b>Согласовать")]

    def texts(self, chat_id: int) -> list[str]:
        return [shown.text for _, shown in self.of(chat_id)]


def link(onec_user_id: str, *, admin: bool = False) -> UserLink:
    return UserLink(
        telegram_user_id=CHAT[onec_user_id],
        chat_id=CHAT[onec_user_id],
        onec_user_id=onec_user_id,
        onec_user_name=PEOPLE[onec_user_id].name,
        phone=PHONE[onec_user_id],
        linked_at=NOW,
        is_admin=admin,
    )


@pytest.fixture
def store(redis_prefix: str) -> RedisStore:
    made = RedisStore(connect(URL), redis_prefix)
    for user in ("u-1", "u-2", "u-3", "u-4"):
        made.save_link(link(user))
    return made


@pytest.fixture
def onec() -> Infobase:
    return Infobase()


@pytest.fixture
def chats() -> Chats:
    return Chats()


def flow(
    store: RedisStore, onec: Infobase, chats: Chats, prefix: str, **settings: str
) -> FlowContext:
    return redis_context(
        store, URL, prefix, onec=onec, messenger=chats, secret=SECRET, now=lambda: NOW, **settings
    )


@pytest.fixture
def ctx(store: RedisStore, onec: Infobase, chats: Chats, redis_prefix: str) -> FlowContext:
    return flow(store, onec, chats, redis_prefix)


def press(chats: Chats, ref: MessageRef, button: str, data: str | None = None) -> IncomingPress:
    shown = chats.messages[ref]
    if data is None:
        data = next(b.callback_data for row in shown.keyboard for b in row if b.text == button)
    return IncomingPress(
        update_id=1,
        callback_id=f"cb-{ref.chat_id}-{ref.message_id}-{button}",
        chat_id=ref.chat_id,
        user_id=ref.chat_id,
        message_id=ref.message_id,
        data=data,
    )


def signed_approval(chats: Chats, ref: MessageRef, task: Task) -> IncomingPress:
    """A press on `ref` approving `task` at its version, validly signed for the chat, though
    the card shows no such button."""
    data = callbacks.sign(SECRET, ref.chat_id, Decision.APPROVE, task.id, task.version)
    return press(chats, ref, "", data=data)


def test_a_role_task_reaches_every_linked_candidate_and_nobody_else(
    ctx: FlowContext, onec: Infobase, chats: Chats
) -> None:
    onec.tasks["task-role"] = role_task()
    assert sync_pass(ctx).delivered == 3
    for user in ("u-1", "u-2", "u-3"):
        [(_, card)] = chats.cards(CHAT[user])
        assert [b.text for row in card.keyboard for b in row] == [
            "Согласовать",
            "Вернуть инициатору",
        ]
        assert "Адресована роли: Финансовый директор" in card.text
    assert chats.of(CHAT["u-4"]) == []


def test_the_first_decision_wins_and_the_other_cards_say_who_decided(
    ctx: FlowContext, onec: Infobase, chats: Chats
) -> None:
    onec.tasks["task-role"] = role_task()
    sync_pass(ctx)
    [(mine, _)] = chats.cards(CHAT["u-2"])
    [(theirs, _)] = chats.cards(CHAT["u-1"])
    on_press(ctx, press(chats, mine, "Согласовать"))
    # A second candidate presses before 1C has the first decision: refused, nothing stored.
    late = press(chats, theirs, "Согласовать")
    on_press(ctx, late)
    assert chats.answers[late.callback_id] == (ctx.texts.t("alert.taken"), True)
    OutboxRunner(ctx).run_once()
    assert [(r.user_id, r.decision) for r in onec.written] == [("u-2", Decision.APPROVE)]
    assert onec.tasks["task-role"].performer == PEOPLE["u-2"]
    for user in ("u-1", "u-2", "u-3"):
        [(_, card)] = chats.cards(CHAT[user])
        assert card.keyboard == []
        assert "✅ Согласовано: Петров Пётр Петрович, 27.11.2026 11:00" in card.text
    # A press on the closed card (an old client still showing the buttons) changes nothing.
    again = press(chats, theirs, "Согласовать", data=late.data)
    on_press(ctx, again)
    assert chats.answers[again.callback_id] == (ctx.texts.t("alert.done"), True)
    assert len(onec.written) == 1


def test_a_role_task_decided_in_1c_closes_every_card_with_who_decided(
    ctx: FlowContext, onec: Infobase, chats: Chats
) -> None:
    onec.tasks["task-role"] = role_task()
    sync_pass(ctx)
    onec.submit_decision(
        DecisionRequest("task-role", Decision.APPROVE, "", "u-3", "", "in-1c", NOW)
    )
    onec.written.clear()
    assert sync_pass(ctx).closed == 1
    for user in ("u-1", "u-2", "u-3"):
        [(_, card)] = chats.cards(CHAT[user])
        assert card.keyboard == []
        assert "Согласовано: Сидорова Анна Ивановна" in card.text


def test_a_register_change_gives_a_new_candidate_the_card_and_closes_a_removed_ones(
    ctx: FlowContext, onec: Infobase, chats: Chats
) -> None:
    onec.tasks["task-role"] = role_task()
    sync_pass(ctx)
    onec.tasks["task-role"] = role_task("task-role", "u-1", "u-2", "u-4")
    sync_pass(ctx)
    [(_, added)] = chats.cards(CHAT["u-4"])
    assert added.keyboard
    [(removed_ref, removed)] = chats.cards(CHAT["u-3"])
    assert removed.keyboard == []
    assert removed.text.endswith("➖ Задача больше не адресована вам")
    stale = signed_approval(chats, removed_ref, onec.tasks["task-role"])
    on_press(ctx, stale)
    assert chats.answers[stale.callback_id] == (ctx.texts.t("alert.foreign"), True)
    assert onec.written == []


def test_tasks_lists_only_what_the_user_may_decide_now(
    ctx: FlowContext, onec: Infobase, chats: Chats
) -> None:
    onec.tasks["task-role"] = role_task("task-role", "u-1", "u-2")
    onec.tasks["task-other"] = dataclasses.replace(role_task("task-other", "u-3"), title="Другая")
    for user, count in (("u-1", 1), ("u-3", 1), ("u-4", 0)):
        run_command(ctx, IncomingMessage(1, CHAT[user], CHAT[user], 1, "/tasks"), "/tasks", "")
        listing = chats.texts(CHAT[user])[0]
        expected = f"Задачи на согласовании: {count}" if count else "Задач на согласовании нет."
        assert listing.startswith(expected)


@pytest.mark.parametrize("mode", ["notify", "off"])
def test_a_task_that_is_not_an_approval_is_shown_without_buttons_or_not_at_all(
    store: RedisStore, onec: Infobase, chats: Chats, redis_prefix: str, mode: str
) -> None:
    ctx = flow(store, onec, chats, redis_prefix, other_tasks=mode)
    onec.tasks["task-job"] = role_task("task-job", "u-1", kind=TaskKind.TASK)
    sync_pass(ctx)
    cards = chats.cards(CHAT["u-1"])
    if mode == "off":
        assert cards == []
        return
    [(ref, card)] = cards
    assert card.keyboard == [] and card.document
    assert "Для сведения: задача выполняется в 1С" in card.text
    forged = signed_approval(chats, ref, onec.tasks["task-job"])
    on_press(ctx, forged)
    OutboxRunner(ctx).run_once()
    assert chats.answers[forged.callback_id] == (ctx.texts.t("alert.not_approval"), True)
    assert onec.written == []


def test_a_cancelled_role_task_is_announced_to_every_candidate_holding_a_card(
    ctx: FlowContext, onec: Infobase, chats: Chats
) -> None:
    onec.tasks["task-role"] = role_task()
    sync_pass(ctx)
    onec.tasks["task-role"] = dataclasses.replace(
        onec.tasks["task-role"], state=TaskState.CANCELLED
    )
    sync_pass(ctx)
    for user in ("u-1", "u-2", "u-3"):
        [(_, card)] = chats.cards(CHAT[user])
        assert card.keyboard == []
        announced = [t for t in chats.texts(CHAT[user]) if t.startswith("Согласование отменено")]
        assert len(announced) == 1, chats.texts(CHAT[user])


def test_outside_the_users_group_nobody_connects_and_a_member_who_left_is_unlinked(
    store: RedisStore, onec: Infobase, chats: Chats, redis_prefix: str
) -> None:
    ctx = flow(store, onec, chats, redis_prefix, users_group="Согласующие")
    onec.groups["Согласующие"] = frozenset({"u-1", "u-2", "u-3"})
    store.delete_link(CHAT["u-4"])
    contact = IncomingMessage(
        9, CHAT["u-4"], CHAT["u-4"], 9, contact=Contact(PHONE["u-4"], CHAT["u-4"])
    )
    handle(ctx, contact)
    assert store.get_link(CHAT["u-4"]) is None
    assert "не входит в группу пользователей «Согласующие»" in chats.texts(CHAT["u-4"])[-1]

    onec.tasks["task-role"] = role_task()
    sync_pass(ctx)
    onec.groups["Согласующие"] = frozenset({"u-1", "u-2"})
    reads = onec.group_reads
    sync_pass(ctx)
    assert onec.group_reads == reads + 1
    assert store.get_link(CHAT["u-3"]) is None
    [(_, card)] = chats.cards(CHAT["u-3"])
    assert card.keyboard == []
    assert "больше не входит в группу пользователей «Согласующие»" in chats.texts(CHAT["u-3"])[-1]
    assert store.get_link(CHAT["u-1"]) is not None


def test_members_of_the_admins_group_are_admins_until_they_leave_it_invited_admins_stay(
    store: RedisStore, onec: Infobase, chats: Chats, redis_prefix: str
) -> None:
    ctx = flow(store, onec, chats, redis_prefix, admins_group="Администраторы бота")
    store.save_link(link("u-4", admin=True))
    onec.groups["Администраторы бота"] = frozenset({"u-1"})
    sync_pass(ctx)

    def status(user: str) -> str:
        run_command(ctx, IncomingMessage(1, CHAT[user], CHAT[user], 1, "/status"), "/status", "")
        return chats.texts(CHAT[user])[-1]

    assert status("u-1").startswith("<b>Состояние шлюза")
    assert status("u-2") == ctx.texts.t("admin.only")
    ctx.alert_admins("тревога")
    assert [c for c in CHAT.values() if "тревога" in chats.texts(c)] == [CHAT["u-1"], CHAT["u-4"]]
    onec.groups["Администраторы бота"] = frozenset()
    sync_pass(ctx)
    assert status("u-1") == ctx.texts.t("admin.only")
    assert status("u-4").startswith("<b>Состояние шлюза")
