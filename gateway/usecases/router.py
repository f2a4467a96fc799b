"""Which infobase an update from Telegram is for, when one bot serves several (ONEC_BASES).

Each base has its own flow context (its 1C, its Redis namespace, its settings); they share the
messenger, the texts and the update stream. With one base every update goes to
`gateway.usecases.dispatch` exactly as before. With several: a press goes to the base named in
its callback data (that base's context verifies the signature); a shared contact is matched in
every base and answered once; a reason goes to the base whose prompt it answers; commands span
the bases the user is linked in (`gateway.usecases.commands.run_across`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from gateway.domain.incoming import Incoming, IncomingMessage, IncomingPress
from gateway.domain.records import Prompt, UserLink
from gateway.domain.tasks import Task
from gateway.errors import AuthenticationFailed, GatewayError, UpstreamUnavailable
from gateway.presentation import callbacks
from gateway.usecases import commands, dispatch
from gateway.usecases.commands import Linked, deliver_each, linked_bases, my_tasks
from gateway.usecases.dispatch import Admission, AdmissionPorts, DispatchPorts
from gateway.usecases.links import (
    BaseLink,
    BaseRefusal,
    Found,
    ReplyPorts,
    ask_for_contact,
    confirm_bases,
    link_user,
    match_phone,
    own_phone,
)
from gateway.usecases.press import on_press, on_reason

log = logging.getLogger(__name__)


def admit(bases: Sequence[AdmissionPorts], incoming: Incoming) -> Admission:
    """Count the update against its user's inbound limit (the counters are shared by every
    base: one user, one limit)."""
    return dispatch.admit(bases[0], incoming)


def tell_flooding(bases: Sequence[ReplyPorts], incoming: Incoming) -> None:
    """The one notice that further messages are ignored for a while."""
    dispatch.tell_flooding(bases[0], incoming)


def handle(bases: Sequence[DispatchPorts], incoming: Incoming) -> None:
    """Handle one update in the base (or bases) it belongs to; with one base, exactly
    `dispatch.handle`. A failing upstream gets the user a short apology, never silence."""
    if len(bases) == 1:
        dispatch.handle(bases[0], incoming)
        return
    with dispatch.apologising(bases[0], incoming):
        if isinstance(incoming, IncomingPress):
            _on_press(bases, incoming)
        else:
            _on_message(bases, incoming)


def _on_press(bases: Sequence[DispatchPorts], press: IncomingPress) -> None:
    name = callbacks.base_of(press.data)
    ctx = next((ctx for ctx in bases if name and ctx.base.name == name), None)
    if ctx is None:
        # A single-base card from before ONEC_BASES was set, a removed base, or made up.
        log.warning("press for unknown base %r from user %s", name, press.user_id)
        first = bases[0]
        first.messenger.answer_callback(press.callback_id, first.texts.t("alert.forged"), True)
        return
    on_press(ctx, press)


def _on_message(bases: Sequence[DispatchPorts], message: IncomingMessage) -> None:
    if message.contact is not None:
        _on_contact(bases, message)
        return
    command = message.command
    if command is not None:
        commands.run_across(bases, message, *command)
        return
    first = bases[0]
    linked = linked_bases(bases, message.user_id)
    if not linked:
        ask_for_contact(first, message.chat_id)
        return
    answered = _prompt_answered(linked, message)
    if answered is not None:
        ctx, prompt, link = answered
        on_reason(ctx, message, prompt, link)
        return
    first.messenger.send_text(message.chat_id, first.texts.t("help"))


def _prompt_answered(
    linked: Sequence[Linked[DispatchPorts]], message: IncomingMessage
) -> tuple[DispatchPorts, Prompt, UserLink] | None:
    """The reason prompt a text answers: the one it replies to, else the newest of the bases'
    (each base keeps its own prompt for the chat)."""
    waiting = []
    for item in linked:
        prompt = item.ctx.prompts.get_prompt(message.chat_id)
        if prompt is not None:
            waiting.append((item, prompt))
    if message.reply_to_message_id is not None:
        waiting = [w for w in waiting if w[1].prompt_message_id == message.reply_to_message_id]
    if not waiting:
        return None
    item, prompt = max(waiting, key=lambda w: w[1].created_at)
    return item.ctx, prompt, item.link


def _on_contact(bases: Sequence[DispatchPorts], message: IncomingMessage) -> None:
    """Link the user in every base where the phone's 1C user is found (and may connect), answer
    once for all of them, then send the pending cards of every base linked."""
    first = bases[0]
    phone = own_phone(first, message)
    if phone is None:
        return
    linked: list[tuple[DispatchPorts, UserLink]] = []
    refused: list[BaseRefusal] = []
    for ctx in bases:
        try:
            match = match_phone(ctx, phone)
        except (UpstreamUnavailable, AuthenticationFailed) as exc:
            log.warning("contact: base %s unavailable: %s", ctx.base.name, exc)
            refused.append(BaseRefusal(ctx.base, None))
            continue
        if match.user is None or match.found is not Found.ONE:
            refused.append(BaseRefusal(ctx.base, match))
            continue
        linked.append((ctx, link_user(ctx, message, phone, match.user)))
    pending = [(ctx, link, _pending(ctx, link)) for ctx, link in linked]
    confirm_bases(
        first,
        message.chat_id,
        phone,
        [
            BaseLink(ctx.base, link, None if tasks is None else len(tasks))
            for ctx, link, tasks in pending
        ],
        refused,
    )
    for ctx, link, tasks in pending:
        if tasks:
            deliver_each(ctx, link, tasks)


def _pending(ctx: DispatchPorts, link: UserLink) -> list[Task] | None:
    """The user's pending tasks in one base; None when its 1C cannot say now (the sync pass
    sends the cards once it is back)."""
    try:
        return my_tasks(ctx, link)
    except GatewayError as exc:
        log.warning("pending tasks of base %s: %s", ctx.base.name, exc)
        return None
