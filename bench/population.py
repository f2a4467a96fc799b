"""Approvers and pending tasks for a scenario: 1C users with phones, Telegram users with the
same phones, their links, and approvals started on shared documents.

Links are written with the store's `save_link` (what onboarding stores after the contact is
shared), not through the onboarding dialogue: 200 dialogues would cost minutes and measure
onboarding rather than the relay. Onboarding has its own end-to-end tests.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from gateway.domain.records import UserLink
from gateway.ports.storage import Store
from sandbox.onec import routing
from sandbox.onec.documents import PAYMENT_REQUEST
from sandbox.onec.harness import RunningSandbox
from sandbox.onec.seed import SEEDS
from sandbox.telegram.harness import SandboxServer

FIRST_CHAT_ID = 700_000
ROLE_CANDIDATES = 3  # performers of each role a role-addressed task goes to
PHONE_OFFSET = 5_000_000  # numbers "+7 (905) …": clear of the seeded users' phones


@dataclass(frozen=True)
class Approver:
    """One approver: the Telegram chat and the 1C user it is linked to."""

    chat_id: int
    onec_id: str
    name: str
    phone: str


@dataclass(frozen=True)
class Approval:
    """A pending task: its id, its document, its approver, and a tag unique to its document."""

    task_id: str
    document_id: str
    chat_id: int
    tag: str
    started_at: float  # time.time() just before 1C created the task


def phone_of(n: int) -> str:
    """A unique mobile number, written the way 1C presents phones."""
    s = f"{PHONE_OFFSET + n:09d}"
    return f"+7 (9{s[0:2]}) {s[2:5]}-{s[5:7]}-{s[7:9]}"


def make_approvers(
    onec: RunningSandbox, telegram: SandboxServer, store: Store | None, count: int
) -> list[Approver]:
    """`count` 1C users and Telegram users sharing phones; linked when a store is given."""
    approvers = []
    for n in range(count):
        name = f"Согласующий{n:04d} Бенчмарков"
        phone = phone_of(n)
        onec_id = onec.client.create_user(name, [phone], login=f"bench{n:04d}")
        chat_id = FIRST_CHAT_ID + n
        telegram.client.create_user(
            chat_id, first_name="Согласующий", last_name=f"{n:04d}", phone=phone
        )
        approver = Approver(chat_id, onec_id, name, phone)
        if store is not None:
            link(store, approver)
        approvers.append(approver)
    return approvers


def add_to_base(onec: RunningSandbox, store: Store, approvers: list[Approver]) -> list[Approver]:
    """The same people as 1C users of another infobase (other ids, the same phones and chats),
    linked in that base's store: one Telegram account, a 1C user in each base."""
    added = []
    for n, approver in enumerate(approvers):
        name = f"{approver.name} ({onec.config.seed})"
        onec_id = onec.client.create_user(name, [approver.phone], login=f"bench{n:04d}")
        added.append(Approver(approver.chat_id, onec_id, name, approver.phone))
        link(store, added[-1])
    return added


def link(store: Store, approver: Approver) -> None:
    """What onboarding stores once the approver shared the contact."""
    store.save_link(
        UserLink(
            telegram_user_id=approver.chat_id,
            chat_id=approver.chat_id,
            onec_user_id=approver.onec_id,
            onec_user_name=approver.name,
            phone="".join(ch for ch in approver.phone if ch.isdigit()),
            linked_at=datetime.now().astimezone(),
        )
    )


def start_document(
    onec: RunningSandbox,
    approvers: list[Approver],
    tag: str,
    *,
    render_print_form: bool = False,
    roles: Sequence[tuple[uuid.UUID, Sequence[Approver]]] = (),
) -> list[Approval]:
    """One payment request with a one-stage approval started for each approver at once, and one
    for each role of `roles` (addressed to the role: one task, a card for each of its approvers).

    The control API starts one approval per new document; several approvers deciding on one
    document at the same time (parallel approval) is made here on the infobase directly.
    `render_print_form` fills the emulator's print-form cache first, as a 1C server that
    already printed the document would have it.
    """
    ib = onec.infobase
    seed = SEEDS[onec.config.seed]
    initiator = seed.ref(seed.initiator)
    amount = Decimal(1000 + len(tag) * 37)
    with ib.lock:
        document = routing.create_document(
            ib,
            PAYMENT_REQUEST,
            {
                "СуммаДокумента": amount,
                "НазначениеПлатежа": f"Оплата {tag}",
                "РасшифровкаПлатежа": [
                    {
                        "СтатьяДвиженияДенежныхСредств": "Прочие расходы",
                        "Назначение": f"Бенчмарк {tag}",
                        "Сумма": amount,
                    }
                ],
            },
            author=initiator,
        )
        if render_print_form:
            from sandbox.onec.print_form import render_pdf

            key = (str(document.ref), document.data_version)
            onec.sandbox.print_cache[key] = render_pdf(ib, document)
        started = []
        started_at = time.time()
        for approver in approvers:
            _, task = routing.start_approval(ib, document, [uuid.UUID(approver.onec_id)], initiator)
            started.append(
                Approval(str(task.ref), str(document.ref), approver.chat_id, tag, started_at)
            )
        for role, candidates in roles:
            _, task = routing.start_approval(ib, document, [routing.RoleRoute(role)], initiator)
            started += [
                Approval(str(task.ref), str(document.ref), c.chat_id, tag, started_at)
                for c in candidates
            ]
    return started


def spread_tasks(
    onec: RunningSandbox,
    approvers: list[Approver],
    tasks: int,
    documents: int,
    *,
    role_every: int = 0,
) -> list[Approval]:
    """`tasks` pending tasks over `documents` documents, `tasks // documents` each.

    Approvers are taken round-robin, so consecutive tasks go to different chats, as a real mix
    of documents and approvers would: the per-chat limit then never holds the whole relay up.
    With `role_every` = n, every n-th task is addressed to a role of ROLE_CANDIDATES approvers
    (the next ones in turn) instead of one approver: one task, a card for each candidate.
    Answers one Approval per card.
    """
    per_document = max(1, tasks // documents)
    made: list[Approval] = []
    cursor = 0
    started = 0
    for d in range(documents):
        count = min(per_document, tasks - started)
        if count <= 0:
            break
        people: list[Approver] = []
        roles: list[tuple[uuid.UUID, list[Approver]]] = []
        for _ in range(count):
            started += 1
            if role_every and started % role_every == 0:
                members = [approvers[(cursor + i) % len(approvers)] for i in range(ROLE_CANDIDATES)]
                cursor += ROLE_CANDIDATES
                roles.append((_role_of(onec, members, len(roles) + d * per_document), members))
            else:
                people.append(approvers[cursor % len(approvers)])
                cursor += 1
        made += start_document(onec, people, f"док-{d:04d}", roles=roles)
    return made


def _role_of(onec: RunningSandbox, members: list[Approver], n: int) -> uuid.UUID:
    """A new performer role whose register records name `members`."""
    role = onec.client.create_role(
        f"Бенчмарк-роль {n:05d}", [{"user": m.onec_id, "organization": None} for m in members]
    )
    return uuid.UUID(role)
