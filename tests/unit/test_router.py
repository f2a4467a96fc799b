"""The router over several 1C infobases (issue 21), with the shared fakes of the ports.

Two bases, УХ (`uh`) and ERP (`erp`), each with its own 1C and its own store, share one
messenger and one root store (the update counters and invitations), as bootstrap builds them.
With one base the router is `dispatch` itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from gateway.domain.incoming import Contact, Incoming, IncomingMessage
from gateway.domain.infobases import Infobase
from gateway.domain.records import UserLink
from gateway.domain.tasks import Decision, OneCUser, Person, Task
from gateway.errors import UpstreamUnavailable
from gateway.presentation import callbacks
from gateway.presentation.texts import Texts
from gateway.usecases import cards_io, dispatch, router
from gateway.usecases.context import FlowContext
from gateway.usecases.dispatch import Admission
from tests.factories import make_link, make_message, make_press, make_task
from tests.fakes import NOW, SECRET, FakeMessenger, FakeOneC, InMemoryStore, make_context

UH = Infobase("uh", "УХ")
ERP = Infobase("erp", "ERP")
CHAT = 200
PHONE = "79120000000"
TASK_ID = "6f1c1b9e-0000-4000-8000-000000000001"  # the same id in both bases
RU = Texts("ru")
DOWN = UpstreamUnavailable("1C", "connection refused")


@dataclass
class Bases:
    """Two bases' contexts over their own stores and 1Cs, one messenger, one root store."""

    messenger: FakeMessenger = field(default_factory=FakeMessenger)
    root: InMemoryStore = field(default_factory=InMemoryStore)
    stores: dict[str, InMemoryStore] = field(default_factory=dict)
    onecs: dict[str, FakeOneC] = field(default_factory=dict)
    contexts: list[FlowContext] = field(default_factory=list)

    @classmethod
    def of(cls, *bases: Infobase) -> Bases:
        made = cls()
        for base in bases:
            store, onec = InMemoryStore(), FakeOneC()
            made.stores[base.name] = store
            made.onecs[base.name] = onec
            made.contexts.append(
                make_context(
                    store,
                    base=base,
                    onec=onec,
                    messenger=made.messenger,
                    updates=made.root,
                    invites=made.root,
                    send_pdf=False,
                )
            )
        return made

    def ctx(self, name: str) -> FlowContext:
        return next(ctx for ctx in self.contexts if ctx.base.name == name)

    def user(self, name: str, user_id: str, person: str = "Иванова Мария Сергеевна") -> None:
        """1C user `user_id` of base `name` has PHONE on their card."""
        self.onecs[name].users.append(OneCUser(user_id, person, (PHONE,)))

    def link(self, name: str, **changes: Any) -> UserLink:
        """The approver (chat CHAT) linked in base `name` to `<name>-user`, known to its 1C."""
        link = replace(make_link(CHAT, f"{name}-user", phone=PHONE), **changes)
        self.stores[name].save_link(link)
        self.onecs[name].add_users_of(link)
        return link

    def task(self, name: str, task_id: str = TASK_ID, **changes: Any) -> Task:
        """A pending approval in base `name` addressed to its linked approver."""
        performer = Person(f"{name}-user", "Иванова Мария Сергеевна")
        task = make_task(task_id, title=f"Заявка {name}", performer=performer, **changes)
        self.onecs[name].add(task)
        return task

    def deliver(self, name: str, task: Task) -> int:
        """Send the card of `task` of base `name` to its linked approver; its message id."""
        link = self.stores[name].get_link(CHAT)
        assert link is not None
        assert cards_io.deliver(self.ctx(name), task, link)
        return self.messenger.sent[-1].ref.message_id

    def handle(self, incoming: Incoming) -> None:
        router.handle(self.contexts, incoming)

    def last(self) -> str:
        return self.messenger.to(CHAT)[-1]


def contact_message(phone: str = PHONE) -> IncomingMessage:
    return make_message(chat_id=CHAT, contact=Contact(phone, CHAT))


# --- one base: the router is dispatch -------------------------------------------------------------


def single_world() -> tuple[FlowContext, FakeMessenger, InMemoryStore]:
    store, messenger, onec = InMemoryStore(), FakeMessenger(), FakeOneC()
    link = make_link(CHAT, "performer-of-t1", phone=PHONE)
    onec.add_users_of(link)
    onec.add(make_task("t1"))
    return make_context(store, onec=onec, messenger=messenger, send_pdf=False), messenger, store


SINGLE_SCRIPT: list[Incoming] = [
    make_message("привет", chat_id=CHAT),
    make_message("/tasks", chat_id=CHAT, update_id=2),
    make_message(chat_id=CHAT, update_id=3, contact=Contact(PHONE, CHAT)),
    make_message("/tasks", chat_id=CHAT, update_id=4),
    make_message("/status", chat_id=CHAT, update_id=5),
    make_press("garbage", chat_id=CHAT, update_id=6),
    make_press(
        callbacks.sign(SECRET, CHAT, Decision.APPROVE, "t1", make_task("t1").version),
        chat_id=CHAT,
        update_id=7,
    ),
]


def test_with_one_base_the_router_does_exactly_what_dispatch_does() -> None:
    routed, routed_messenger, routed_store = single_world()
    direct, direct_messenger, direct_store = single_world()
    for incoming in SINGLE_SCRIPT:
        router.handle([routed], incoming)
        dispatch.handle(direct, incoming)
    assert routed_messenger.sent == direct_messenger.sent
    assert routed_messenger.answers == direct_messenger.answers
    assert routed_store.all_links() == direct_store.all_links()
    assert routed_store.outbox_depth() == direct_store.outbox_depth() == 1


def test_admission_counts_on_the_shared_root_store_for_every_base() -> None:
    bases = Bases.of(UH, ERP)
    incoming = make_message("x", chat_id=CHAT)
    answers = [router.admit(bases.contexts, incoming) for _ in range(dispatch.INBOUND_LIMIT + 2)]
    assert answers[: dispatch.INBOUND_LIMIT] == [Admission.HANDLE] * dispatch.INBOUND_LIMIT
    assert answers[dispatch.INBOUND_LIMIT :] == [Admission.NOTICE, Admission.IGNORE]
    assert bases.root.count_inbound(CHAT, dispatch.INBOUND_WINDOW_SECONDS) > 0
    router.tell_flooding(bases.contexts, incoming)
    assert bases.last() == RU.t("flood.ignored")


# --- presses --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["uh", "erp"])
def test_a_press_goes_to_the_base_its_card_came_from(name: str) -> None:
    bases = Bases.of(UH, ERP)
    tasks = {base: bases.task(base) for base in ("uh", "erp")}  # the same id in both
    for base in ("uh", "erp"):
        bases.link(base)
    data = callbacks.sign(SECRET, CHAT, Decision.APPROVE, TASK_ID, tasks[name].version, name)
    bases.handle(make_press(data, chat_id=CHAT))
    assert bases.messenger.answer_texts() == [RU.t("alert.accepted")]
    depths = {base: bases.stores[base].outbox_depth() for base in ("uh", "erp")}
    assert depths == {base: int(base == name) for base in ("uh", "erp")}
    entry = bases.stores[name].due(NOW.timestamp() + 60, 10)[0]
    assert entry.request.user_id == f"{name}-user"


@pytest.mark.parametrize(
    "data",
    [
        callbacks.sign(SECRET, CHAT, Decision.APPROVE, TASK_ID, "v", "do"),  # not served
        callbacks.sign(SECRET, CHAT, Decision.APPROVE, TASK_ID, "v"),  # a single-base card
        callbacks.sign("another secret", CHAT, Decision.APPROVE, TASK_ID, "v", "uh"),
        "garbage",
    ],
    ids=["unknown base", "no base", "forged", "garbage"],
)
def test_a_press_for_no_base_served_or_forged_is_refused(data: str) -> None:
    bases = Bases.of(UH, ERP)
    bases.task("uh")
    bases.link("uh")
    bases.handle(make_press(data, chat_id=CHAT))
    assert bases.messenger.answer_texts() == [RU.t("alert.forged")]
    assert all(store.outbox_depth() == 0 for store in bases.stores.values())


def test_a_press_while_its_base_is_down_waits_there_and_the_other_base_still_decides() -> None:
    bases = Bases.of(UH, ERP)
    uh_task, erp_task = bases.task("uh"), bases.task("erp")
    for base in ("uh", "erp"):
        bases.link(base)
    uh_card, erp_card = bases.deliver("uh", uh_task), bases.deliver("erp", erp_task)
    bases.onecs["uh"].error = DOWN
    for name, task, card in (("uh", uh_task, uh_card), ("erp", erp_task, erp_card)):
        data = callbacks.sign(SECRET, CHAT, Decision.APPROVE, TASK_ID, task.version, name)
        bases.handle(make_press(data, chat_id=CHAT, message_id=card))
    assert bases.messenger.answer_texts() == [RU.t("alert.accepted")] * 2
    assert bases.stores["uh"].outbox_depth() == bases.stores["erp"].outbox_depth() == 1
