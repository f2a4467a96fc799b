"""Button presses and return reasons, and the outbox that carries decisions to 1C.

A decision is stored in the outbox (one atomic step) before the approver is told anything; a
worker's outbox loop claims it under a lease, writes it to 1C with retries and exponential
backoff with jitter, then edits the card with the outcome. 1C applies it once: the
idempotency key is derived from the press, so a write repeated after a crash or by a worker
that took over an expired lease is answered from 1C's memory of the first. The card says
"passing to 1C" only when the first write is slow or fails: otherwise the outcome follows the
press within a fraction of a second, and an edit before it would only delay the write.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from typing import Final

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
from gateway.errors import (
    AlreadyCompleted,
    AuthenticationFailed,
    ConfigurationError,
    GatewayError,
    NotFound,
    NotPerformer,
    Refused,
    RequestRejected,
    StaleDecision,
    Upstream,
    UpstreamUnavailable,
)
from gateway.ports.messenger import ForceReply
from gateway.ports.metrics import DecisionOutcome
from gateway.presentation import callbacks, cards
from gateway.presentation.texts import escape
from gateway.usecases import cards_io
from gateway.usecases.context import FlowContext
from gateway.usecases.links import current_link

log = logging.getLogger(__name__)

MAX_ATTEMPTS: Final = 30  # capped backoff with jitter: about 2.7 hours of 1C downtime
BACKOFF_BASE_SECONDS: Final = 2.0
BACKOFF_CAP_SECONDS: Final = 600.0
LEASE_SECONDS: Final = 120.0  # longer than a write to 1C takes; a dead worker's entry waits this
PROBE_SECONDS: Final = 5.0  # while decisions wait for 1C to come back, ask it this often
UNAVAILABLE: Final = "unavailable"
LOST_LEASE: Final = "lost_lease"
PENDING_AFTER_SECONDS: Final = 0.5  # a first write to 1C slower than this shows "passing to 1C"


@dataclass(frozen=True, slots=True)
class Shown:
    """The task and document versions an approver's card showed (design 6.12)."""

    version: str
    subject_version: str = ""


def press_key(task_id: str, version: str, decision: Decision, telegram_user_id: int) -> str:
    """The idempotency key of a press: the same press, however often repeated, is one decision."""
    raw = f"{task_id}|{version}|{decision.value}|{telegram_user_id}"
    return "tg-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def on_press(ctx: FlowContext, press: IncomingPress) -> None:
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
    if _decided_elsewhere(ctx, task.id, press.chat_id):
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
    ctx: FlowContext,
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
    if _decided_elsewhere(ctx, delivery.task_id, press.chat_id):
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


def _decided_elsewhere(ctx: FlowContext, task_id: str, chat_id: int) -> bool:
    """True if another candidate's decision on the task is on its way to 1C (first one wins)."""
    return any(
        d.deciding and d.chat_id != chat_id for d in ctx.deliveries.deliveries_for_task(task_id)
    )


def ask_reason(
    ctx: FlowContext,
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


def on_reason(ctx: FlowContext, message: IncomingMessage, prompt: Prompt, link: UserLink) -> None:
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
    ctx: FlowContext,
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


class OutboxRunner:
    """One worker's outbox loop: attempts due decisions under leases, and keeps two promises
    across outages.

    - Redis failing in the middle of an attempt leaves this worker holding the entry's lease:
      it gives the lease back as soon as Redis answers, so the entry is attempted again at
      once instead of after LEASE_SECONDS.
    - Backoff after a long 1C outage puts the next attempt up to BACKOFF_CAP_SECONDS away:
      while decisions wait and 1C was last seen down, 1C is asked every PROBE_SECONDS whether
      it is back, and once it is, every waiting decision becomes due at once.
    """

    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx
        self._unreleased: dict[str, str] = {}  # entry id → our lease, to give back
        self._onec_down = True  # not known to be up: a new worker asks before waiting out backoff
        self._probed_at = -float("inf")

    def run_once(self, limit: int = 50) -> int:
        """Attempt every due entry this worker can claim; returns how many were attempted.

        Raises GatewayError when Redis fails (the caller waits and calls again)."""
        outbox = self.ctx.outbox
        for entry_id, held in list(self._unreleased.items()):
            outbox.release(entry_id, held)
            del self._unreleased[entry_id]
        self._retry_now_if_1c_is_back()
        attempted = 0
        now = self.ctx.now().timestamp()
        for entry in outbox.due(now, limit):
            lease = outbox.claim(entry.id, now, LEASE_SECONDS)
            if lease is None:
                continue
            attempted += 1
            try:
                outcome = apply(self.ctx, entry, lease)
            except GatewayError:
                self._unreleased[entry.id] = lease
                raise
            if outcome == UNAVAILABLE:
                self._onec_down = True
            elif outcome != LOST_LEASE:
                self._onec_down = False
        return attempted

    def _retry_now_if_1c_is_back(self) -> None:
        if not self._onec_down or time.monotonic() - self._probed_at < PROBE_SECONDS:
            return
        self._probed_at = time.monotonic()
        if self.ctx.outbox.outbox_depth() == 0:
            return
        try:
            self.ctx.onec.ping()
        except GatewayError:
            return
        self._onec_down = False
        moved = self.ctx.outbox.retry_now(self.ctx.now().timestamp())
        if moved:
            log.info("1C answers again: %d waiting decisions are due now", moved)


def apply(ctx: FlowContext, entry: OutboxEntry, lease: str) -> str:
    """One attempt to write a claimed entry to 1C, and what the approver sees after it.

    Returns the outcome (as counted in metrics, with UNAVAILABLE for a 1C that could not be
    reached, and LOST_LEASE when another worker took the entry over meanwhile: that worker
    settles it, this one changes nothing and tells nobody)."""
    request = entry.request
    shown = entry.attempts > 0  # the first attempt said "passing to 1C" if it had to

    def show_pending() -> None:
        nonlocal shown
        if not shown:
            shown = True
            _show_pending(ctx, entry)

    def settled(outcome: str) -> bool:
        if not ctx.outbox.complete(entry.id, lease):
            log.warning("decision %s: the lease was lost; its new holder settles it", entry.id)
            return False
        ctx.metrics.decision(request.decision.value, outcome)
        return True

    try:
        task = _write(ctx, entry, show_pending)
    except (UpstreamUnavailable, ConfigurationError) as exc:
        # 1C down, or its set-up broken (an admin will fix it): keep the decision, retry later.
        show_pending()
        outcome = _retry_or_give_up(ctx, entry, lease, str(exc))
        if outcome == LOST_LEASE:
            return outcome
        ctx.metrics.decision(request.decision.value, outcome)
        return (
            UNAVAILABLE
            if isinstance(exc, UpstreamUnavailable) and outcome == DecisionOutcome.RETRY
            else outcome
        )
    except StaleDecision as exc:
        # Nothing was written: the approver gets the current card, saying why (design 6.12).
        if not settled(DecisionOutcome.STALE):
            return LOST_LEASE
        label = escape(ctx.texts.button(request.decision))
        _replace_card(ctx, entry, exc.task, ctx.texts.t("decision.stale", decision=label))
        return DecisionOutcome.STALE
    except Refused as exc:
        # Final (design 6.13): told now with 1C's text, never retried.
        if not settled(DecisionOutcome.REFUSED):
            return LOST_LEASE
        log.info("decision %s on task %s refused by 1C: %s", entry.id, request.task_id, exc)
        text = ctx.texts.t("decision.refused", reason=escape(exc.message))
        _replace_card(ctx, entry, None, text)
        return DecisionOutcome.REFUSED
    except AlreadyCompleted as exc:
        if not settled(DecisionOutcome.ALREADY_COMPLETED):
            return LOST_LEASE
        _finish(ctx, entry, exc.task, ctx.texts.t("decision.already"))
        return DecisionOutcome.ALREADY_COMPLETED
    except NotPerformer:
        if not settled(DecisionOutcome.NOT_PERFORMER):
            return LOST_LEASE
        _finish(ctx, entry, None, ctx.texts.t("decision.not_performer"))
        return DecisionOutcome.NOT_PERFORMER
    except RequestRejected as exc:
        if not settled(DecisionOutcome.REJECTED):
            return LOST_LEASE
        _finish(ctx, entry, None, ctx.texts.t("decision.rejected", reason=escape(exc.message)))
        return DecisionOutcome.REJECTED
    if not settled(DecisionOutcome.APPLIED):
        return LOST_LEASE
    log.info("decision %s on task %s applied in 1C", request.decision, request.task_id)
    _finish(ctx, entry, task, None)
    return DecisionOutcome.APPLIED


def _write(ctx: FlowContext, entry: OutboxEntry, when_slow: Callable[[], None]) -> Task:
    """Write the decision to 1C; `when_slow` runs (in this thread, which makes every edit of
    the card) if a first attempt is still going after PENDING_AFTER_SECONDS."""
    if entry.attempts > 0:
        return ctx.onec.submit_decision(entry.request)
    with ThreadPoolExecutor(1, thread_name_prefix="decision") as one:
        writing = one.submit(ctx.onec.submit_decision, entry.request)
        try:
            return writing.result(timeout=PENDING_AFTER_SECONDS)
        except FutureTimeout:
            when_slow()
            return writing.result()


def _show_pending(ctx: FlowContext, entry: OutboxEntry) -> None:
    """ "Passing to 1C" on the card, edited here, in the thread that later writes the outcome,
    so the two edits cannot arrive in the wrong order."""
    request = entry.request
    if request.message is None:
        return
    delivery = ctx.deliveries.get_delivery(request.task_id, request.message.chat_id)
    if delivery is None:
        return
    label = escape(ctx.texts.button(request.decision))
    try:
        cards_io.edit(ctx, delivery, [ctx.texts.t("outcome.pending", decision=label)])
    except GatewayError as exc:
        log.warning("could not mark the card of task %s as pending: %s", request.task_id, exc)


def _finish(ctx: FlowContext, entry: OutboxEntry, task: Task | None, problem: str | None) -> None:
    """Edit the approver's card with what became of the decision, and stop tracking it."""
    request = entry.request
    if request.message is None:
        return
    delivery = ctx.deliveries.get_delivery(request.task_id, request.message.chat_id)
    if problem is None:
        tail = cards.outcome_lines(
            ctx.texts, request.decision, request.user_name, request.requested_at, request.comment
        )
    elif task is not None and not task.is_pending:
        tail = [*cards_io.outcome_tail(ctx, task), problem]
    else:
        tail = [problem]
    try:
        if delivery is not None:
            if problem is not None and task is not None and task.is_pending:
                cards_io.refresh(ctx, task, delivery, _link_of(ctx, request))
                ctx.messenger.send_text(request.message.chat_id, problem)
            else:
                cards_io.close(ctx, delivery, tail)
        else:
            ctx.messenger.send_text(request.message.chat_id, "\n".join(tail))
    except GatewayError as exc:
        # 1C has the decision (or refused it); only telling the approver failed.
        log.warning("could not update the card of task %s: %s", request.task_id, exc)
    if problem is None:
        _close_other_cards(ctx, request.task_id, request.message.chat_id, tail)


def _replace_card(ctx: FlowContext, entry: OutboxEntry, task: Task | None, line: str) -> None:
    """The decision was not applied: its card ends with `line`, and the task's current card
    (re-read from 1C when `task` is not given) follows it, buttons and all."""
    request = entry.request
    if request.message is None:
        return
    chat_id = request.message.chat_id
    try:
        delivery = ctx.deliveries.get_delivery(request.task_id, chat_id)
        if task is None:
            task = _current(ctx, request.task_id)
        if delivery is None:
            ctx.messenger.send_text(chat_id, line)
        elif delivery.message_id != request.message.message_id:
            # The card was replaced while a reason was typed: it stands, the sync pass keeps
            # it current again.
            ctx.deliveries.save_delivery(replace(delivery, deciding=""))
            ctx.messenger.send_text(chat_id, line)
        elif task is not None and task.is_pending:
            cards_io.refresh(ctx, task, delivery, _link_of(ctx, request), [line])
        else:
            # 1C cannot tell the task now: the next sync pass sends its card.
            tail = [] if task is None else cards_io.outcome_tail(ctx, task)
            cards_io.close(ctx, delivery, [*tail, line])
    except GatewayError as exc:
        log.warning("could not update the card of task %s: %s", request.task_id, exc)


def _current(ctx: FlowContext, task_id: str) -> Task | None:
    """The task as 1C has it now, or None if 1C cannot tell."""
    try:
        return ctx.onec.get_task(task_id)
    except GatewayError as exc:
        log.info("could not re-read task %s: %s", task_id, exc)
        return None


def _close_other_cards(ctx: FlowContext, task_id: str, chat_id: int, tail: list[str]) -> None:
    """The decision went through: every other candidate's card says who decided, and loses
    its buttons (a decision of theirs still on its way ends by itself, through the outbox)."""
    for other in ctx.deliveries.deliveries_for_task(task_id):
        if other.chat_id == chat_id or other.deciding:
            continue
        try:
            cards_io.close(ctx, other, tail)
        except GatewayError as exc:
            log.warning(
                "could not close the card of task %s in chat %s: %s", task_id, other.chat_id, exc
            )


def _link_of(ctx: FlowContext, request: DecisionRequest) -> UserLink:
    link = ctx.links.get_link(request.telegram_user_id or 0)
    if link is None:
        raise NotFound(Upstream.REDIS, "no_link", "the approver is no longer linked")
    return link


def _retry_or_give_up(ctx: FlowContext, entry: OutboxEntry, lease: str, error: str) -> str:
    """Reschedule the entry, or dead-letter it after MAX_ATTEMPTS; returns which (for metrics),
    or LOST_LEASE if another worker holds the entry now."""
    attempts = entry.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        if not ctx.outbox.dead_letter(entry.id, lease, error):
            return LOST_LEASE
        log.error("decision %s dead-lettered after %d attempts: %s", entry.id, attempts, error)
        _tell_dead(ctx, replace(entry, attempts=attempts), error)
        return DecisionOutcome.DEAD_LETTER
    delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempts - 1))
    delay *= random.uniform(0.5, 1.0)  # jitter: many workers do not retry in lockstep
    if not ctx.outbox.reschedule(entry.id, lease, attempts, ctx.now().timestamp() + delay, error):
        return LOST_LEASE
    log.info(
        "decision %s: 1C unavailable (%s); attempt %d in %.0f s", entry.id, error, attempts, delay
    )
    return DecisionOutcome.RETRY


def _tell_dead(ctx: FlowContext, entry: OutboxEntry, error: str) -> None:
    texts = ctx.texts
    request = entry.request
    label = escape(texts.button(request.decision))
    subject = escape(entry.subject or request.task_id)
    ctx.alert_admins(
        texts.t(
            "admin.dead_letter",
            decision=label,
            subject=subject,
            who=escape(request.user_name),
            error=escape(error),
        )
    )
    if request.message is None:
        return
    delivery = ctx.deliveries.get_delivery(request.task_id, request.message.chat_id)
    try:
        if delivery is not None:
            failed = texts.t("outcome.failed", decision=label, reason=escape(error))
            cards_io.close(ctx, delivery, [failed])
        ctx.messenger.send_text(
            request.message.chat_id,
            texts.t("decision.dead", decision=label, subject=subject, attempts=entry.attempts),
        )
    except GatewayError as exc:
        log.warning("could not tell the approver about a dead decision: %s", exc)
