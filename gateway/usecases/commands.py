"""Bot commands: /start (with an admin invitation), /help, /tasks, /status, /cancel."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime
from typing import Final, Protocol

from gateway.domain.incoming import IncomingMessage
from gateway.domain.records import UserLink
from gateway.domain.tasks import Task
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
    lines = [texts.t("tasks.header", count=len(mine))]
    for task in mine:
        stage = f"{task.stage.number}/{task.stage.count}" if task.stage.count else "—"
        due = cards.format_moment(task.due_at) if task.due_at else texts.t("card.no_due")
        lines.append(texts.t("tasks.item", title=escape(task.title), stage=stage, due=due))
    ctx.messenger.send_text(link.chat_id, cards.fit(lines, [], cards.MESSAGE_LIMIT))
    for task in mine:
        cards_io.deliver(ctx, task, link)  # a card missing (deleted, lost) comes again


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
