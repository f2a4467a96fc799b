"""The outbox that carries decisions to 1C, and what the approver sees after each attempt.

A worker's outbox loop claims a stored decision under a lease, writes it to 1C with retries and
exponential backoff with jitter, then edits the card with the outcome. 1C applies it once: the
idempotency key is derived from the press, so a write repeated after a crash or by a worker
that took over an expired lease is answered from 1C's memory of the first. The card says
"passing to 1C" only when the first write is slow or fails: otherwise the outcome follows the
press within a fraction of a second, and an edit before it would only delay the write.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Final, Protocol

from gateway.domain.records import DecisionRequest, OutboxEntry, UserLink
from gateway.domain.tasks import Task
from gateway.errors import (
    AlreadyCompleted,
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
from gateway.ports.metrics import DecisionOutcome
from gateway.ports.onec import OneC
from gateway.ports.storage import OutboxStore
from gateway.presentation import cards
from gateway.presentation.texts import escape
from gateway.scheduling.deadline import Deadline
from gateway.usecases import cards_io
from gateway.usecases.alerts import alert_admins
from gateway.usecases.cards_io import CardPorts

log = logging.getLogger(__name__)

MAX_ATTEMPTS: Final = 30  # capped backoff with jitter: about 2.7 hours of 1C downtime
BACKOFF_BASE_SECONDS: Final = 2.0
BACKOFF_CAP_SECONDS: Final = 600.0
LEASE_SECONDS: Final = 120.0  # longer than a write to 1C takes; a dead worker's entry waits this
PROBE_SECONDS: Final = 5.0  # while decisions wait for 1C to come back, ask it this often
UNAVAILABLE: Final = "unavailable"
LOST_LEASE: Final = "lost_lease"
PENDING_AFTER_SECONDS: Final = 0.5  # a first write to 1C slower than this shows "passing to 1C"


class OutboxPorts(CardPorts, Protocol):
    """What carrying decisions to 1C needs: the outbox, 1C to write to, the deadline that
    shows a slow first write, and the cards' ports to tell the approver (and the admins)."""

    outbox: OutboxStore
    deadline: Deadline

    @property
    def onec(self) -> OneC:
        """1C, written to (and read when a card must show the task as it is now)."""
        ...


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

    def __init__(self, ctx: OutboxPorts) -> None:
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


def apply(ctx: OutboxPorts, entry: OutboxEntry, lease: str) -> str:
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


def _write(ctx: OutboxPorts, entry: OutboxEntry, when_slow: Callable[[], None]) -> Task:
    """Write the decision to 1C; `when_slow` runs (in this thread, which makes every edit of
    the card) if a first attempt is still going after PENDING_AFTER_SECONDS."""
    if entry.attempts > 0:
        return ctx.onec.submit_decision(entry.request)
    return ctx.deadline.run(
        lambda: ctx.onec.submit_decision(entry.request), PENDING_AFTER_SECONDS, when_slow
    )


def _show_pending(ctx: OutboxPorts, entry: OutboxEntry) -> None:
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


def _tell(ctx: OutboxPorts, chat_id: int, html: str) -> None:
    """A message to the approver about their decision, naming the base when there are several
    (the card it is about says so too, but this one may come much later)."""
    ctx.messenger.send_text(chat_id, cards.in_base(ctx.base, ctx.texts, html))


def _finish(ctx: OutboxPorts, entry: OutboxEntry, task: Task | None, problem: str | None) -> None:
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
                _tell(ctx, request.message.chat_id, problem)
            else:
                cards_io.close(ctx, delivery, tail)
        else:
            _tell(ctx, request.message.chat_id, "\n".join(tail))
    except GatewayError as exc:
        # 1C has the decision (or refused it); only telling the approver failed.
        log.warning("could not update the card of task %s: %s", request.task_id, exc)
    if problem is None:
        _close_other_cards(ctx, request.task_id, request.message.chat_id, tail)


def _replace_card(ctx: OutboxPorts, entry: OutboxEntry, task: Task | None, line: str) -> None:
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
            _tell(ctx, chat_id, line)
        elif delivery.message_id != request.message.message_id:
            # The card was replaced while a reason was typed: it stands, the sync pass keeps
            # it current again.
            ctx.deliveries.save_delivery(replace(delivery, deciding=""))
            _tell(ctx, chat_id, line)
        elif task is not None and task.is_pending:
            cards_io.refresh(ctx, task, delivery, _link_of(ctx, request), [line])
        else:
            # 1C cannot tell the task now: the next sync pass sends its card.
            tail = [] if task is None else cards_io.outcome_tail(ctx, task)
            cards_io.close(ctx, delivery, [*tail, line])
    except GatewayError as exc:
        log.warning("could not update the card of task %s: %s", request.task_id, exc)


def _current(ctx: OutboxPorts, task_id: str) -> Task | None:
    """The task as 1C has it now, or None if 1C cannot tell."""
    try:
        return ctx.onec.get_task(task_id)
    except GatewayError as exc:
        log.info("could not re-read task %s: %s", task_id, exc)
        return None


def _close_other_cards(ctx: OutboxPorts, task_id: str, chat_id: int, tail: list[str]) -> None:
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


def _link_of(ctx: OutboxPorts, request: DecisionRequest) -> UserLink:
    link = ctx.links.get_link(request.telegram_user_id or 0)
    if link is None:
        raise NotFound(Upstream.REDIS, "no_link", "the approver is no longer linked")
    return link


def _retry_or_give_up(ctx: OutboxPorts, entry: OutboxEntry, lease: str, error: str) -> str:
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


def _tell_dead(ctx: OutboxPorts, entry: OutboxEntry, error: str) -> None:
    texts = ctx.texts
    request = entry.request
    label = escape(texts.button(request.decision))
    subject = escape(entry.subject or request.task_id)
    alert_admins(
        ctx,
        texts.t(
            "admin.dead_letter",
            decision=label,
            subject=subject,
            who=escape(request.user_name),
            error=escape(error),
        ),
    )
    if request.message is None:
        return
    delivery = ctx.deliveries.get_delivery(request.task_id, request.message.chat_id)
    try:
        if delivery is not None:
            failed = texts.t("outcome.failed", decision=label, reason=escape(error))
            cards_io.close(ctx, delivery, [failed])
        _tell(
            ctx,
            request.message.chat_id,
            texts.t("decision.dead", decision=label, subject=subject, attempts=entry.attempts),
        )
    except GatewayError as exc:
        log.warning("could not tell the approver about a dead decision: %s", exc)
