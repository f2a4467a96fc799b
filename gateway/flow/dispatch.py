"""One entry for everything that arrives from Telegram: route it to its use case."""

from __future__ import annotations

import logging

from gateway.errors import GatewayError, UpstreamUnavailable
from gateway.flow import commands
from gateway.flow.context import FlowContext
from gateway.flow.decisions import on_press, on_reason
from gateway.flow.links import ask_for_contact, current_link, on_contact
from gateway.incoming import Incoming, IncomingMessage, IncomingPress

log = logging.getLogger(__name__)


def handle(ctx: FlowContext, incoming: Incoming) -> None:
    """Handle one update; a failing upstream gets the user a short apology, never silence."""
    try:
        if isinstance(incoming, IncomingPress):
            on_press(ctx, incoming)
        else:
            _on_message(ctx, incoming)
    except UpstreamUnavailable as exc:
        log.warning("update %s: %s", incoming.update_id, exc)
        _apologise(ctx, incoming)
    except GatewayError as exc:
        log.error("update %s failed: %s", incoming.update_id, exc)
        _apologise(ctx, incoming)


def _on_message(ctx: FlowContext, message: IncomingMessage) -> None:
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
    prompt = ctx.store.get_prompt(message.chat_id)
    if prompt is not None and message.reply_to_message_id in (None, prompt.prompt_message_id):
        on_reason(ctx, message, prompt, link)
        return
    ctx.messenger.send_text(message.chat_id, ctx.texts.t("help"))


def _apologise(ctx: FlowContext, incoming: Incoming) -> None:
    try:
        if isinstance(incoming, IncomingPress):
            ctx.messenger.answer_callback(
                incoming.callback_id, ctx.texts.t("alert.unavailable"), True
            )
        else:
            ctx.messenger.send_text(incoming.chat_id, ctx.texts.t("error.unavailable"))
    except GatewayError as exc:
        log.warning("could not tell user %s about the failure: %s", incoming.chat_id, exc)
