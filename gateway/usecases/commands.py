"""Bot commands: /start (with an admin invitation), /help, /tasks, /status, /cancel.

`run` serves one base; `run_across` serves a gateway of several bases (ONEC_BASES), where
/tasks lists per base under its title, /status covers the bases the user is an admin of, an
invitation makes the user admin in every base they are linked in, and /cancel drops the
reason prompts of every base.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, Generic, Protocol, TypeVar

from gateway.domain.incoming import IncomingMessage
from gateway.domain.records import UserLink
from gateway.domain.tasks import Task
from gateway.errors import AuthenticationFailed, GatewayError, UpstreamUnavailable
from gateway.ports.storage import (
    DeliveryStore,
    InviteStore,
    LinkStore,
    OutboxStore,
    PromptStore,
    StatusField,
    StatusStore,
)
from gateway.presentation import cards
from gateway.presentation.texts import Texts, escape
from gateway.usecases import cards_io
from gateway.usecases.alerts import is_admin
from gateway.usecases.cards_io import CardPorts, DeliveryPolicy
from gateway.usecases.links import LinkPorts, ask_for_contact, confirm, current_link

log = logging.getLogger(__name__)

INVITE_PREFIX: Final = "admin-"
INVITE_TTL_SECONDS: Final = 24 * 3600


class TaskListPorts(CardPorts, DeliveryPolicy, Protocol):
    """What listing a user's pending tasks, and sending the cards they miss, needs."""


class StatusTextPorts(Protocol):
    """What the admins' /status needs."""

    status: StatusStore
    texts: Texts
    outbox: OutboxStore
    deliveries: DeliveryStore
    links: LinkStore


class CommandPorts(TaskListPorts, LinkPorts, StatusTextPorts, Protocol):
    """What carrying out any command needs."""

    prompts: PromptStore
    invites: InviteStore


P = TypeVar("P", bound=CommandPorts)


def bot_commands(texts: Texts) -> list[tuple[str, str]]:
    """The command menu set with setMyCommands."""
    if texts.language == "en":
        return [("tasks", "My pending tasks"), ("help", "Help"), ("cancel", "Cancel a reason")]
    return [
        ("tasks", "Мои задачи на согласовании"),
        ("help", "Справка"),
        ("cancel", "Отменить ввод причины"),
    ]


def create_invite(store: InviteStore, ttl_seconds: int = INVITE_TTL_SECONDS) -> str:
    """A new one-time admin invitation code (the deep link's payload is `admin-<code>`)."""
    code = secrets.token_urlsafe(18)
    store.save_invite(code, ttl_seconds)
    return code


def my_tasks(ctx: TaskListPorts, link: UserLink) -> list[Task]:
    """The pending tasks whose cards this user gets: those they may decide now (addressed to
    them, or to a role they are a candidate of), other tasks only while notified."""
    return [
        t
        for t in ctx.onec.pending_tasks()
        if t.may_decide(link.onec_user_id) and cards_io.delivers(ctx, t)
    ]


def deliver_pending(ctx: TaskListPorts, link: UserLink, *, announce: bool) -> int:
    """Send the user every pending task of theirs not yet on a card; returns how many pending."""
    mine = my_tasks(ctx, link)
    if announce:
        confirm(ctx, link, len(mine))
    for task in mine:
        cards_io.deliver(ctx, task, link)
    return len(mine)


def run(ctx: CommandPorts, message: IncomingMessage, command: str, argument: str) -> None:
    """Carry out a command."""
    texts = ctx.texts
    chat = message.chat_id
    if command == "/start" and argument.startswith(INVITE_PREFIX):
        _accept_invite(ctx, message, argument.removeprefix(INVITE_PREFIX))
        return
    if command == "/cancel":
        had = ctx.prompts.get_prompt(chat) is not None
        ctx.prompts.delete_prompt(chat)
        ctx.messenger.send_text(chat, texts.t("reason.cancelled" if had else "reason.nothing"))
        return
    link = current_link(ctx, message.user_id)
    if link is None:
        ask_for_contact(ctx, chat)
        return
    if command in ("/start", "/help"):
        help_text = texts.t("help")
        if is_admin(ctx, link):
            help_text += "\n" + texts.t("help.admin")
        ctx.messenger.send_text(chat, help_text)
    elif command == "/tasks":
        _list_tasks(ctx, link)
    elif command == "/status":
        if not is_admin(ctx, link):
            ctx.messenger.send_text(chat, texts.t("admin.only"))
        else:
            ctx.messenger.send_text(chat, status_text(ctx))
    else:
        ctx.messenger.send_text(chat, texts.t("unknown_command"))


def _accept_invite(ctx: CommandPorts, message: IncomingMessage, code: str) -> None:
    link = ctx.links.get_link(message.user_id)
    if link is None:
        # The invitation stays valid: connect first, then open the link again.
        ask_for_contact(ctx, message.chat_id)
        return
    if not code or not ctx.invites.take_invite(code):
        ctx.messenger.send_text(message.chat_id, ctx.texts.t("admin.invalid"))
        return
    ctx.links.save_link(replace(link, is_admin=True))
    ctx.messenger.send_text(message.chat_id, ctx.texts.t("admin.granted"))


def _list_tasks(ctx: TaskListPorts, link: UserLink) -> None:
    texts = ctx.texts
    mine = my_tasks(ctx, link)
    if not mine:
        ctx.messenger.send_text(link.chat_id, texts.t("tasks.none"))
        return
    lines = [texts.t("tasks.header", count=len(mine)), *_task_items(texts, mine)]
    ctx.messenger.send_text(link.chat_id, cards.fit(lines, [], cards.MESSAGE_LIMIT))
    for task in mine:
        cards_io.deliver(ctx, task, link)  # a card missing (deleted, lost) comes again


def _task_items(texts: Texts, tasks: Sequence[Task]) -> list[str]:
    items = []
    for task in tasks:
        stage = f"{task.stage.number}/{task.stage.count}" if task.stage.count else "—"
        due = cards.format_moment(task.due_at) if task.due_at else texts.t("card.no_due")
        items.append(texts.t("tasks.item", title=escape(task.title), stage=stage, due=due))
    return items


def status_text(ctx: StatusTextPorts) -> str:
    """A short status for admins: sync, 1C, outbox, counts (no personal data)."""
    status = ctx.status.get_status()
    texts = ctx.texts

    def moment(name: str) -> str:
        value = status.get(name)
        return cards.format_moment(datetime.fromisoformat(value)) if value else "—"

    return texts.t(
        "status",
        last_sync=moment(StatusField.LAST_SYNC_AT),
        onec=moment(StatusField.ONEC_DOWN_SINCE),
        error=escape(status.get(StatusField.LAST_SYNC_ERROR, "") or "—"),
        outbox=ctx.outbox.outbox_depth(),
        dead=ctx.outbox.dead_letter_count(),
        tracked=len(ctx.deliveries.tracked_tasks()),
        linked=len(ctx.links.all_links()),
    )


@dataclass(frozen=True, slots=True)
class Linked(Generic[P]):
    """One base of several where the user is linked: the base's ports and the user's link."""

    ctx: P
    link: UserLink


def linked_bases(bases: Sequence[P], telegram_user_id: int) -> list[Linked[P]]:
    """The bases, in order, where the user's link holds (checked against each base's 1C)."""
    found: list[Linked[P]] = []
    for ctx in bases:
        link = current_link(ctx, telegram_user_id)
        if link is not None:
            found.append(Linked(ctx, link))
    return found


def run_across(
    bases: Sequence[CommandPorts], message: IncomingMessage, command: str, argument: str
) -> None:
    """Carry out a command for a user of a gateway serving several bases (`bases[0]`'s
    messenger and texts answer: every base shares them)."""
    first = bases[0]
    chat = message.chat_id
    if command == "/start" and argument.startswith(INVITE_PREFIX):
        _accept_invite_across(bases, message, argument.removeprefix(INVITE_PREFIX))
        return
    if command == "/cancel":
        prompted = [ctx for ctx in bases if ctx.prompts.get_prompt(chat) is not None]
        for ctx in prompted:
            ctx.prompts.delete_prompt(chat)
        first.messenger.send_text(
            chat, first.texts.t("reason.cancelled" if prompted else "reason.nothing")
        )
        return
    linked = linked_bases(bases, message.user_id)
    if not linked:
        ask_for_contact(first, chat)
        return
    admin_in = [item.ctx for item in linked if is_admin(item.ctx, item.link)]
    if command in ("/start", "/help"):
        help_text = first.texts.t("help")
        if admin_in:
            help_text += "\n" + first.texts.t("help.admin")
        first.messenger.send_text(chat, help_text)
    elif command == "/tasks":
        list_tasks_by_base(linked)
    elif command == "/status":
        if not admin_in:
            first.messenger.send_text(chat, first.texts.t("admin.only"))
        else:
            texts = [cards.in_base(ctx.base, ctx.texts, status_text(ctx)) for ctx in admin_in]
            first.messenger.send_text(chat, cards.fit(texts, [], cards.MESSAGE_LIMIT))
    else:
        first.messenger.send_text(chat, first.texts.t("unknown_command"))


def _accept_invite_across(
    bases: Sequence[CommandPorts], message: IncomingMessage, code: str
) -> None:
    """One invitation (invites are shared by the bases) makes the user an admin in every base
    they are linked in."""
    first = bases[0]
    linked = [
        (ctx, link) for ctx in bases if (link := ctx.links.get_link(message.user_id)) is not None
    ]
    if not linked:
        ask_for_contact(first, message.chat_id)  # the invitation stays valid
        return
    if not code or not first.invites.take_invite(code):
        first.messenger.send_text(message.chat_id, first.texts.t("admin.invalid"))
        return
    for ctx, link in linked:
        ctx.links.save_link(replace(link, is_admin=True))
    first.messenger.send_text(message.chat_id, first.texts.t("admin.granted"))


def list_tasks_by_base(linked: Sequence[Linked[CommandPorts]]) -> None:
    """/tasks over several bases: the user's pending tasks under each base's title (a base
    whose 1C is unreachable says so), then the cards they miss, base by base."""
    first = linked[0].ctx
    texts = first.texts
    lines: list[str] = []
    mine: list[tuple[Linked[CommandPorts], list[Task]]] = []
    for item in linked:
        title = cards.base_title(item.ctx.base)
        try:
            tasks = my_tasks(item.ctx, item.link)
        except (UpstreamUnavailable, AuthenticationFailed) as exc:
            log.warning("/tasks: base %s unavailable: %s", item.ctx.base.name, exc)
            lines.append(texts.t("tasks.base_unavailable", base=title))
            continue
        mine.append((item, tasks))
        if tasks:
            lines.append(texts.t("tasks.base", base=title, count=len(tasks)))
            lines.extend(_task_items(texts, tasks))
    total = sum(len(tasks) for _, tasks in mine)
    if total:
        lines.insert(0, texts.t("tasks.header", count=total))
    elif len(mine) == len(linked):
        lines.insert(0, texts.t("tasks.none"))
    chat = linked[0].link.chat_id
    first.messenger.send_text(chat, cards.fit(lines, [], cards.MESSAGE_LIMIT))
    for item, tasks in mine:
        deliver_each(item.ctx, item.link, tasks)


def deliver_each(ctx: TaskListPorts, link: UserLink, tasks: Sequence[Task]) -> None:
    """Send the cards of `tasks` the user misses in one of several bases; a failure is logged
    and leaves the other bases' cards to go (the next sync pass retries)."""
    try:
        for task in tasks:
            cards_io.deliver(ctx, task, link)
    except GatewayError as exc:
        log.warning("cards of base %s to chat %s: %s", ctx.base.name, link.chat_id, exc)
