"""Button presses and return reasons: each press is checked, then stored in the outbox.

A decision is stored in the outbox (one atomic step, `gateway.usecases.outbox` carries it to
1C) before the approver is told anything. A press is checked against 1C first: the task must
still be pending, the presser one of its deciders, the card the one 1C's task and document
versions match. With 1C unreachable, a press on the card we last sent is still accepted; 1C
compares the versions when the decision reaches it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from gateway.domain.incoming import IncomingMessage, IncomingPress
from gateway.domain.records import (
    DecisionRequest,
    Delivery,
    MessageRef,
    OutboxEntry,
    Prompt,
    UserLink,
)
from gateway.domain.tasks import Decision, Task, TaskState
from gateway.errors import AuthenticationFailed, NotFound, UpstreamUnavailable
from gateway.ports.messenger import ForceReply
from gateway.ports.storage import DeliveryStore, OutboxStore, PromptStore
from gateway.presentation import callbacks, cards
from gateway.presentation.texts import escape
from gateway.usecases import cards_io
from gateway.usecases.cards_io import CardPorts
from gateway.usecases.links import LinkPorts, ReplyPorts, current_link

log = logging.getLogger(__name__)


class SubmitPorts(Protocol):
    """What storing a decision in the outbox needs."""

    deliveries: DeliveryStore
    outbox: OutboxStore

    # Functions as dataclass fields' defaults read as methods: only a property matches them.
    @property
    def now(self) -> Callable[[], datetime]:
        """The clock a decision's time is read from."""
        ...

    @property
    def wake_outbox(self) -> Callable[[], None]:
        """Tells this worker's outbox loop that a decision waits (it looks at once)."""
        ...


class ReasonPorts(SubmitPorts, ReplyPorts, Protocol):
    """What asking for a return's reason, and taking the reply, needs."""

    prompts: PromptStore


class PressPorts(ReasonPorts, CardPorts, LinkPorts, Protocol):
    """What handling a decision button needs: the press is checked against 1C and the card
    refreshed or closed when it no longer holds."""


@dataclass(frozen=True, slots=True)
class Shown:
    """The task and document versions an approver's card showed (design 6.12)."""

    version: str
    subject_version: str = ""


def press_key(task_id: str, version: str, decision: Decision, telegram_user_id: int) -> str:
    """The idempotency key of a press: the same press, however often repeated, is one decision."""
    raw = f"{task_id}|{version}|{decision.value}|{telegram_user_id}"
    return "tg-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def on_press(ctx: PressPorts, press: IncomingPress) -> None:
    """A decision button: verify it, then decide, ask for a reason, or explain why not."""
    texts = ctx.texts

    def answer(key: str, alert: bool = True) -> None:
        ctx.messenger.answer_callback(press.callback_id, texts.t(key), alert)

    try:
        wanted = callbacks.verify(ctx.secret, press.chat_id, press.data)
    except callbacks.InvalidCallback:
        log.warning("forged or foreign callback data from user %s", press.user_id)
        answer("alert.forged")
        return
    if wanted.base != ctx.base.name:
        # Signed by us, but for another base's card: its task id means nothing here.
        log.warning("press for base %r reached base %r", wanted.base, ctx.base.name)
        answer("alert.forged")
        return
    link = current_link(ctx, press.user_id)
    if link is None:
        answer("alert.not_linked")
        return
    delivery = ctx.deliveries.get_delivery(wanted.task_id, press.chat_id)
    try:
        task = ctx.onec.get_task(wanted.task_id)
    except NotFound:
        answer("alert.cancelled")
        if delivery:
            cards_io.close(ctx, delivery, [texts.t("outcome.cancelled")])
        return
    except (UpstreamUnavailable, AuthenticationFailed):
        # 1C down, or its publication answering a login page: keep the decision for later.
        _press_while_1c_is_down(ctx, press, wanted, link, delivery)
        return
    if not task.is_approval:
        log.warning("press on task %s, which is not an approval, refused", task.id)
        answer("alert.not_approval")
        return
    if not task.is_pending:
        # Before the candidate check: once decided, a role task names only who decided it.
        answer("alert.cancelled" if task.state is TaskState.CANCELLED else "alert.done")
        if delivery:
            cards_io.close(ctx, delivery, cards_io.outcome_tail(ctx, task))
        return
    if not task.may_decide(link.onec_user_id):
        answer("alert.foreign")
        return
    if _decided_elsewhere(ctx.deliveries, task.id, press.chat_id):
        answer("alert.taken")
        return
    card = MessageRef(press.chat_id, press.message_id)
    shown = Shown(task.version, _shown_subject_version(delivery, card, task))
    if (
        callbacks.version_tag(task.version) != wanted.version_tag
        or shown.subject_version != task.subject.version
    ):
        answer("alert.stale")
        if delivery:
            cards_io.refresh(ctx, task, delivery, link)
        return
    if not task.allows(wanted.decision):
        answer("alert.not_allowed")
        return
    if wanted.decision.needs_reason:
        ask_reason(ctx, link, task.id, shown, wanted.decision, card, task.subject.presentation)
        answer("alert.reason", alert=False)
        return
    accepted = submit(
        ctx, link, task.id, shown, wanted.decision, "", card, telegram_name=press.user_name
    )
    answer("alert.accepted" if accepted else "alert.in_progress", alert=False)


def _shown_subject_version(delivery: Delivery | None, card: MessageRef, task: Task) -> str:
    """The document version the pressed card showed: as recorded when it was sent, else (a
    card sent before versions were recorded) the current one, the task version being equal."""
    if (
        delivery is not None
        and delivery.message_id == card.message_id
        and delivery.version == task.version
        and delivery.subject_version
    ):
        return delivery.subject_version
    return task.subject.version


def _press_while_1c_is_down(
    ctx: PressPorts,
    press: IncomingPress,
    wanted: callbacks.Press,
    link: UserLink,
    delivery: Delivery | None,
) -> None:
    """1C is unreachable: accept a press on the card we sent this approver; 1C checks later."""
    texts = ctx.texts
    card = MessageRef(press.chat_id, press.message_id)
    if (
        delivery is None
        or delivery.message_id != press.message_id
        or callbacks.version_tag(delivery.version) != wanted.version_tag
    ):
        ctx.messenger.answer_callback(press.callback_id, texts.t("alert.unavailable"), True)
        return
    if _decided_elsewhere(ctx.deliveries, delivery.task_id, press.chat_id):
        ctx.messenger.answer_callback(press.callback_id, texts.t("alert.taken"), True)
        return
    subject = cards.visible_text(delivery.text.split("\n", 1)[0])
    # 1C compares these versions when the decision reaches it (design 6.12).
    shown = Shown(delivery.version, delivery.subject_version)
    if wanted.decision.needs_reason:
        ask_reason(ctx, link, delivery.task_id, shown, wanted.decision, card, subject)
        ctx.messenger.answer_callback(press.callback_id, texts.t("alert.reason"), False)
        return
    accepted = submit(
        ctx, link, delivery.task_id, shown, wanted.decision, "", card, telegram_name=press.user_name
    )
    key = "alert.accepted" if accepted else "alert.in_progress"
    ctx.messenger.answer_callback(press.callback_id, texts.t(key), False)


def _decided_elsewhere(deliveries: DeliveryStore, task_id: str, chat_id: int) -> bool:
    """True if another candidate's decision on the task is on its way to 1C (first one wins)."""
    return any(d.deciding and d.chat_id != chat_id for d in deliveries.deliveries_for_task(task_id))


def ask_reason(
    ctx: ReasonPorts,
    link: UserLink,
    task_id: str,
    shown: Shown,
    decision: Decision,
    card: MessageRef,
    subject: str,
) -> None:
    """Ask for the return's reason with ForceReply; the reply becomes the comment."""
    texts = ctx.texts
    sent = ctx.messenger.send_text(
        link.chat_id,
        texts.t("reason.ask", decision=texts.button(decision), subject=escape(subject)),
        ForceReply(texts.t("reason.placeholder")),
    )
    ctx.prompts.save_prompt(
        Prompt(
            chat_id=link.chat_id,
            prompt_message_id=sent.ref.message_id,
            task_id=task_id,
            decision=decision,
            version=shown.version,
            card_message_id=card.message_id,
            created_at=ctx.now(),
            subject_version=shown.subject_version,
        )
    )


def on_reason(ctx: ReasonPorts, message: IncomingMessage, prompt: Prompt, link: UserLink) -> None:
    """The approver's reply to a reason prompt: the return goes to the outbox."""
    comment = message.text.strip()
    if not comment:
        ctx.messenger.send_text(message.chat_id, ctx.texts.t("reason.empty"))
        return
    ctx.prompts.delete_prompt(message.chat_id)
    card = MessageRef(message.chat_id, prompt.card_message_id)
    shown = Shown(prompt.version, prompt.subject_version)
    submit(
        ctx,
        link,
        prompt.task_id,
        shown,
        prompt.decision,
        comment,
        card,
        telegram_name=message.user_name,
    )


def submit(
    ctx: SubmitPorts,
    link: UserLink,
    task_id: str,
    shown: Shown,
    decision: Decision,
    comment: str,
    card: MessageRef,
    *,
    telegram_name: str = "",
) -> bool:
    """Store the decision durably and wake the outbox (which shows "passing to 1C").

    The decision carries the versions its card showed (`shown`): 1C writes nothing if the task
    or its document changed since. It also names the Telegram account that decided
    (`link.telegram_user_id`, `telegram_name`) for 1C's audit. False if the same press is
    already on its way (nothing is stored twice).
    """
    delivery = ctx.deliveries.get_delivery(task_id, card.chat_id)
    subject = cards.visible_text(delivery.text.split("\n", 1)[0]) if delivery else ""
    request = DecisionRequest(
        task_id=task_id,
        decision=decision,
        comment=comment,
        user_id=link.onec_user_id,
        user_name=link.onec_user_name,
        idempotency_key=press_key(task_id, shown.version, decision, link.telegram_user_id),
        requested_at=ctx.now(),
        telegram_user_id=link.telegram_user_id,
        message=card,
        expected_version=shown.version,
        expected_subject_version=shown.subject_version,
        telegram_user_name=telegram_name,
    )
    entry = OutboxEntry(request, subject, delivery.is_caption if delivery else True)
    if not ctx.outbox.enqueue(entry):
        return False
    if delivery is not None:
        # From now on the outbox, not the sync pass, says how this card ends.
        ctx.deliveries.save_delivery(replace(delivery, deciding=decision.value))
    ctx.wake_outbox()
    return True
