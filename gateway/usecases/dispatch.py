"""One entry for everything that arrives from Telegram: admit it, then route it to its use case.

A user who sends more than INBOUND_LIMIT updates in INBOUND_WINDOW_SECONDS has the rest of that
window ignored (acknowledged, never handled, not kept for later) and is told so once. The limit
is half of what Telegram lets us send to one chat in that time (about one message a second), so
the answers to one user never pile up faster than they can go out; a flood past it costs one
counter increment per update.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Final, Protocol

from gateway.domain.incoming import Incoming, IncomingMessage, IncomingPress
from gateway.errors import GatewayError, UpstreamUnavailable
from gateway.ports.storage import Coordination, UpdateQueue
from gateway.usecases import commands
from gateway.usecases.commands import CommandPorts
from gateway.usecases.links import (
    ConnectPorts,
    ReplyPorts,
    ask_for_contact,
    current_link,
    on_contact,
)
from gateway.usecases.press import PressPorts, on_press, on_reason

log = logging.getLogger(__name__)

INBOUND_LIMIT: Final = 30
INBOUND_WINDOW_SECONDS: Final = 60
FLOOD_NOTICE_SECONDS: Final = 3600  # one notice per user per hour, however long the flood


class AdmissionPorts(Protocol):
    """What counting an update against its user's limit needs (shared by every worker)."""

    updates: UpdateQueue
    coordination: Coordination


class DispatchPorts(PressPorts, CommandPorts, ConnectPorts, Protocol):
    """What handling any update needs: presses, reasons, commands and contacts."""


class Admission(Enum):
    """What to do with an update before handling it."""

    HANDLE = "handle"
    IGNORE = "ignore"  # past the user's limit: acknowledge only
    NOTICE = "notice"  # the first one past the limit: tell the user, handle nothing


def admit(ctx: AdmissionPorts, incoming: Incoming) -> Admission:
    """Count the update against its user's inbound limit (shared by every worker)."""
    if ctx.updates.count_inbound(incoming.user_id, INBOUND_WINDOW_SECONDS) <= INBOUND_LIMIT:
        return Admission.HANDLE
    if ctx.coordination.first_use(f"flood-notice:{incoming.user_id}", FLOOD_NOTICE_SECONDS):
        log.warning("user %s is past %d updates a minute", incoming.user_id, INBOUND_LIMIT)
        return Admission.NOTICE
    return Admission.IGNORE


def tell_flooding(ctx: ReplyPorts, incoming: Incoming) -> None:
    """The one polite notice that further messages are ignored for a while."""
    text = ctx.texts.t("flood.ignored")
    try:
        if isinstance(incoming, IncomingPress):
            ctx.messenger.answer_callback(incoming.callback_id, text, True)
        else:
            ctx.messenger.send_text(incoming.chat_id, text)
    except GatewayError as exc:
        log.warning("could not tell user %s to slow down: %s", incoming.chat_id, exc)


def handle(ctx: DispatchPorts, incoming: Incoming) -> None:
    """Handle one update; a failing upstream gets the user a short apology, never silence."""
    with apologising(ctx, incoming):
        if isinstance(incoming, IncomingPress):
            on_press(ctx, incoming)
        else:
            _on_message(ctx, incoming)


@contextmanager
def apologising(ctx: ReplyPorts, incoming: Incoming) -> Iterator[None]:
    """Run the handling of `incoming`; a GatewayError is logged and the user apologised to."""
    try:
        yield
    except UpstreamUnavailable as exc:
        log.warning("update %s: %s", incoming.update_id, exc)
        _apologise(ctx, incoming)
    except GatewayError as exc:
        log.error("update %s failed: %s", incoming.update_id, exc)
        _apologise(ctx, incoming)


def _on_message(ctx: DispatchPorts, message: IncomingMessage) -> None:
    if message.contact is not None:
        link = on_contact(ctx, message)
        if link is not None:
            commands.deliver_pending(ctx, link, announce=True)
        return
    command = message.command
    if command is not None:
        commands.run(ctx, message, *command)
        return
    link = current_link(ctx, message.user_id)
    if link is None:
        ask_for_contact(ctx, message.chat_id)
        return
    prompt = ctx.prompts.get_prompt(message.chat_id)
    if prompt is not None and message.reply_to_message_id in (None, prompt.prompt_message_id):
        on_reason(ctx, message, prompt, link)
        return
    ctx.messenger.send_text(message.chat_id, ctx.texts.t("help"))


def _apologise(ctx: ReplyPorts, incoming: Incoming) -> None:
    try:
        if isinstance(incoming, IncomingPress):
            ctx.messenger.answer_callback(
                incoming.callback_id, ctx.texts.t("alert.unavailable"), True
            )
        else:
            ctx.messenger.send_text(incoming.chat_id, ctx.texts.t("error.unavailable"))
    except GatewayError as exc:
        log.warning("could not tell user %s about the failure: %s", incoming.chat_id, exc)
