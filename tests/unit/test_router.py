"""The router over several 1C infobases (issue 21), with the shared fakes of the ports.

Two bases, УХ (`uh`) and ERP (`erp`), each with its own 1C and its own store, share one
messenger and one root store (the update counters and invitations), as bootstrap builds them.
With one base the router is `dispatch` itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest

from gateway.domain.incoming import Contact, Incoming, IncomingMessage
from gateway.domain.infobases import Infobase
from gateway.domain.records import UserLink
from gateway.domain.tasks import Decision, OneCUser, Person, Task
from gateway.errors import UpstreamUnavailable
from gateway.ports.messenger import ContactRequest, RemoveKeyboard
from gateway.presentation import callbacks
from gateway.presentation.texts import Texts
from gateway.usecases import cards_io, dispatch, router
from gateway.usecases.commands import create_invite
from gateway.usecases.context import FlowContext
from gateway.usecases.dispatch import Admission
from tests.factories import make_link, make_message, make_press, make_prompt, make_task
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

    def linked_to(self, name: str) -> str | None:
        """The 1C user the approver is linked to in base `name`, if linked there."""
        link = self.stores[name].get_link(CHAT)
        return None if link is None else link.onec_user_id

    def is_admin(self, name: str) -> bool:
        """True if the approver is linked in base `name` as an admin."""
        link = self.stores[name].get_link(CHAT)
        return link is not None and link.is_admin

    def task(self, name: str, task_id: str = TASK_ID, **changes: Any) -> Task:
        """A pending approval in base `name` addressed to its linked approver."""
        performer = Person(f"{name}-user", "Иванова Мария Сергеевна")
        changes.setdefault("title", f"Заявка {name}")
        task = make_task(task_id, performer=performer, **changes)
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


# --- linking: one contact, every base -------------------------------------------------------------


def test_a_contact_found_in_both_bases_links_both_confirms_once_and_sends_both_cards() -> None:
    bases = Bases.of(UH, ERP)
    bases.user("uh", "uh-user", "Иванова Мария Сергеевна")
    bases.user("erp", "erp-user", "Иванова М. С.")
    bases.task("uh")
    bases.task("erp")
    bases.handle(contact_message())
    assert [bases.linked_to("uh"), bases.linked_to("erp")] == ["uh-user", "erp-user"]
    confirmation, *cards = bases.messenger.to(CHAT)
    assert confirmation == RU.t(
        "contact.linked_bases",
        bases="• <b>УХ</b>: Иванова Мария Сергеевна, задач на согласовании: 1\n"
        "• <b>ERP</b>: Иванова М. С., задач на согласовании: 1",
    )
    assert isinstance(bases.messenger.sent[0].markup, RemoveKeyboard)
    assert [card.split("\n")[0] for card in cards] == [
        "<b>УХ</b> · <b>Заявка uh</b>",
        "<b>ERP</b> · <b>Заявка erp</b>",
    ]


def refusal(title: str, key: str, **values: object) -> str:
    return RU.t(f"contact.base.{key}", base=title, **values)


@dataclass(frozen=True)
class ContactCase:
    """How ERP answers the phone УХ links (or not, with `uh_too=False`)."""

    erp: str  # "one", "none", "several", "group", "down"
    expected_erp_line: str
    uh_too: bool = True


CONTACT_CASES = [
    ContactCase("none", refusal("ERP", "unknown", phone=PHONE)),
    ContactCase("several", refusal("ERP", "ambiguous", count=2)),
    ContactCase("group", refusal("ERP", "not_in_group", name="Иванова М. С.", group="Согласующие")),
    ContactCase("down", refusal("ERP", "unavailable")),
    ContactCase("none", refusal("ERP", "unknown", phone=PHONE), uh_too=False),
]


def erp_answers(bases: Bases, how: str) -> None:
    if how in ("one", "group", "several"):
        bases.user("erp", "erp-user", "Иванова М. С.")
    if how == "several":
        bases.user("erp", "erp-twin", "Иванова Мария")
    if how == "group":
        bases.ctx("erp").users_group = "Согласующие"
        bases.onecs["erp"].groups["Согласующие"] = frozenset({"someone-else"})
    if how == "down":
        bases.onecs["erp"].error = DOWN


@pytest.mark.parametrize("case", CONTACT_CASES, ids=lambda c: f"{c.erp}-uh{int(c.uh_too)}")
def test_a_base_where_the_contact_links_nobody_is_named_with_what_to_ask(case: ContactCase) -> None:
    bases = Bases.of(UH, ERP)
    if case.uh_too:
        bases.user("uh", "uh-user")
    erp_answers(bases, case.erp)
    bases.handle(contact_message())
    assert bases.stores["erp"].get_link(CHAT) is None
    [answer] = bases.messenger.sent
    assert isinstance(answer.markup, ContactRequest)  # share again once 1C is fixed
    if case.uh_too:
        assert bases.stores["uh"].get_link(CHAT) is not None
        assert answer.html == (
            RU.t(
                "contact.linked_bases",
                bases="• <b>УХ</b>: Иванова Мария Сергеевна, задач на согласовании: 0",
            )
            + "\n\n"
            + RU.t("contact.missing_bases", bases=case.expected_erp_line)
        )
    else:
        assert bases.stores["uh"].get_link(CHAT) is None
        lines = refusal("УХ", "unknown", phone=PHONE) + "\n" + case.expected_erp_line
        assert answer.html == RU.t("contact.none_linked", phone=PHONE, bases=lines)


def test_someone_elses_contact_is_refused_once_for_all_bases() -> None:
    bases = Bases.of(UH, ERP)
    bases.user("uh", "uh-user")
    bases.handle(make_message(chat_id=CHAT, contact=Contact(PHONE, CHAT + 1)))
    assert bases.messenger.to(CHAT) == [RU.t("contact.foreign")]
    assert bases.onecs["uh"].phone_queries == []


def test_a_contact_moving_a_1c_user_tells_the_old_account_and_that_bases_admins() -> None:
    bases = Bases.of(UH, ERP)
    bases.link("uh", telegram_user_id=CHAT + 1, chat_id=CHAT + 1)
    bases.stores["uh"].save_link(make_link(900, "admin-user", admin=True))
    bases.handle(contact_message())
    assert bases.stores["uh"].get_link(CHAT + 1) is None
    replaced = RU.t("link.replaced", name="Иванова Мария Сергеевна")
    assert bases.messenger.to(CHAT + 1) == [f"<b>УХ</b> · {replaced}"]
    assert bases.messenger.to(900)[0].startswith("<b>УХ</b> · 🔁")


# --- messages, reasons and commands ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["привет", "/tasks", "/status", "/help"])
def test_a_user_linked_in_no_base_is_asked_for_the_contact(text: str) -> None:
    bases = Bases.of(UH, ERP)
    bases.handle(make_message(text, chat_id=CHAT))
    assert bases.messenger.to(CHAT) == [RU.t("welcome")]
    assert isinstance(bases.messenger.sent[0].markup, ContactRequest)


@dataclass(frozen=True)
class ReasonCase:
    """Prompts waiting in the bases (message id, minutes after NOW) and the reply."""

    prompts: dict[str, tuple[int, int]]
    reply_to: int | None
    expected: str | None  # the base that gets the return, None: nobody (help)


REASON_CASES = [
    ReasonCase({"uh": (60, 0), "erp": (70, 5)}, None, "erp"),  # the newest prompt
    ReasonCase({"uh": (60, 5), "erp": (70, 0)}, None, "uh"),
    ReasonCase({"uh": (60, 0), "erp": (70, 5)}, 60, "uh"),  # the prompt replied to
    ReasonCase({"erp": (70, 0)}, None, "erp"),
    ReasonCase({"uh": (60, 0)}, 99, None),  # a reply to something else
    ReasonCase({}, None, None),
]


@pytest.mark.parametrize("case", REASON_CASES)
def test_a_reason_goes_to_the_base_whose_prompt_it_answers(case: ReasonCase) -> None:
    bases = Bases.of(UH, ERP)
    for name in ("uh", "erp"):
        bases.link(name)
    for name, (prompt_id, minutes) in case.prompts.items():
        prompt = make_prompt(bases.task(name), CHAT, prompt_message_id=prompt_id)
        bases.stores[name].save_prompt(replace(prompt, created_at=NOW + timedelta(minutes=minutes)))
    bases.handle(make_message("Нет бюджета", chat_id=CHAT, reply_to=case.reply_to))
    got = {name: bases.stores[name].outbox_depth() for name in ("uh", "erp")}
    assert got == {name: int(name == case.expected) for name in ("uh", "erp")}
    if case.expected is None:
        assert bases.last() == RU.t("help")
    else:
        assert bases.stores[case.expected].get_prompt(CHAT) is None
        entry = bases.stores[case.expected].due(NOW.timestamp() + 3600, 1)[0]
        assert entry.request.comment == "Нет бюджета"
        assert entry.request.user_id == f"{case.expected}-user"


def test_tasks_are_listed_under_each_base_and_a_base_down_says_so() -> None:
    bases = Bases.of(UH, ERP, Infobase("do", "ДО"))
    for name in ("uh", "erp", "do"):
        bases.link(name)
    bases.task("uh", title="Оплата поставщику")
    bases.task("uh", "uh-2", title="Договор аренды")
    bases.task("erp", title="Заказ материалов")
    bases.onecs["do"].error = DOWN
    bases.handle(make_message("/tasks", chat_id=CHAT))
    listing, *cards = bases.messenger.to(CHAT)
    lines = listing.split("\n")
    assert lines[0] == RU.t("tasks.header", count=3)
    assert [line for line in lines if line.startswith("<b>")] == [
        "<b>УХ</b> — задач на согласовании: 2",
        "<b>ERP</b> — задач на согласовании: 1",
        "<b>ДО</b> — 1С сейчас недоступна, список не получен",
    ]
    assert [line.split(" — ")[0] for line in lines if line.startswith("•")] == [
        "• Оплата поставщику",
        "• Договор аренды",
        "• Заказ материалов",
    ]
    assert len(cards) == 3  # the cards missing from the chat come again


def test_tasks_with_none_anywhere_say_so_once() -> None:
    bases = Bases.of(UH, ERP)
    for name in ("uh", "erp"):
        bases.link(name)
    bases.handle(make_message("/tasks", chat_id=CHAT))
    assert bases.messenger.to(CHAT) == [RU.t("tasks.none")]


def test_an_invitation_makes_the_user_admin_in_every_base_linked() -> None:
    bases = Bases.of(UH, ERP, Infobase("do", "ДО"))
    for name in ("uh", "erp"):
        bases.link(name)
    code = create_invite(bases.root)
    bases.handle(make_message(f"/start admin-{code}", chat_id=CHAT))
    assert bases.last() == RU.t("admin.granted")
    assert [bases.is_admin(name) for name in ("uh", "erp", "do")] == [True, True, False]
    assert bases.linked_to("do") is None
    bases.handle(make_message(f"/start admin-{code}", chat_id=CHAT, update_id=2))
    assert bases.last() == RU.t("admin.invalid")  # one use only


def test_an_invitation_before_linking_anywhere_stays_valid() -> None:
    bases = Bases.of(UH, ERP)
    code = create_invite(bases.root)
    bases.handle(make_message(f"/start admin-{code}", chat_id=CHAT))
    assert bases.last() == RU.t("welcome")
    assert bases.root.take_invite(code)


def test_status_covers_the_bases_the_user_is_admin_of() -> None:
    bases = Bases.of(UH, ERP)
    bases.link("uh", is_admin=True)
    bases.link("erp")
    bases.handle(make_message("/status", chat_id=CHAT))
    assert bases.last().startswith("<b>УХ</b> · <b>Состояние шлюза</b>")
    assert "ERP" not in bases.last()
    bases.handle(make_message("/help", chat_id=CHAT))
    assert bases.last() == RU.t("help") + "\n" + RU.t("help.admin")


def test_status_for_an_admin_of_no_base_is_refused() -> None:
    bases = Bases.of(UH, ERP)
    bases.link("uh")
    bases.handle(make_message("/status", chat_id=CHAT))
    assert bases.last() == RU.t("admin.only")
    bases.handle(make_message("/help", chat_id=CHAT))
    assert bases.last() == RU.t("help")


def test_cancel_drops_the_reason_prompts_of_every_base() -> None:
    bases = Bases.of(UH, ERP)
    for name in ("uh", "erp"):
        bases.link(name)
        bases.stores[name].save_prompt(make_prompt(bases.task(name), CHAT))
    bases.handle(make_message("/cancel", chat_id=CHAT))
    assert bases.last() == RU.t("reason.cancelled")
    assert all(store.get_prompt(CHAT) is None for store in bases.stores.values())
    bases.handle(make_message("/cancel", chat_id=CHAT))
    assert bases.last() == RU.t("reason.nothing")


def test_an_unknown_command_is_answered_once() -> None:
    bases = Bases.of(UH, ERP)
    bases.link("erp")
    bases.handle(make_message("/nonsense", chat_id=CHAT))
    assert bases.messenger.to(CHAT) == [RU.t("unknown_command")]


def test_a_return_asks_for_its_reason_naming_the_base() -> None:
    bases = Bases.of(UH, ERP)
    task = bases.task("erp", allowed_decisions=(Decision.APPROVE, Decision.RETURN_INITIATOR))
    bases.link("erp")
    card = bases.deliver("erp", task)
    data = callbacks.sign(SECRET, CHAT, Decision.RETURN_INITIATOR, TASK_ID, task.version, "erp")
    bases.handle(make_press(data, chat_id=CHAT, message_id=card))
    assert bases.last().startswith("<b>ERP</b> · Укажите причину: «Вернуть инициатору»")
    assert bases.stores["erp"].get_prompt(CHAT) is not None
    assert bases.stores["uh"].get_prompt(CHAT) is None


def test_a_decision_quotes_its_card_without_the_base_title() -> None:
    bases = Bases.of(UH, ERP)
    task = bases.task("uh", title="Оплата поставщику")
    bases.link("uh")
    card = bases.deliver("uh", task)
    bases.onecs["uh"].error = DOWN  # the subject then comes from the card sent
    data = callbacks.sign(SECRET, CHAT, Decision.APPROVE, TASK_ID, task.version, "uh")
    bases.handle(make_press(data, chat_id=CHAT, message_id=card))
    [entry] = bases.stores["uh"].due(NOW.timestamp() + 3600, 5)
    assert entry.subject == "Оплата поставщику"


def test_status_for_an_admin_of_both_bases_has_a_block_for_each() -> None:
    bases = Bases.of(UH, ERP)
    bases.link("uh", is_admin=True)
    bases.link("erp", is_admin=True)
    bases.handle(make_message("/status", chat_id=CHAT))
    blocks = bases.last().split("\n\n")
    assert [block.split(" · ")[0] for block in blocks] == ["<b>УХ</b>", "<b>ERP</b>"]
