"""The sync pass: new tasks delivered once, changed ones refreshed, finished ones closed,
cancelled approvals announced with the document, reminders in working hours."""

from __future__ import annotations

import logging
from collections import defaultdict
from concurrent.futures import Future
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Protocol

from gateway.domain.documents import Document, rendition_key
from gateway.domain.records import Delivery, UserLink
from gateway.domain.tasks import Task, TaskState
from gateway.errors import GatewayError, NotFound, RecipientBlocked, UpstreamUnavailable
from gateway.ports.messenger import Attachment
from gateway.presentation import cards
from gateway.presentation.texts import escape
from gateway.scheduling.relay import RelayPools, interleave, relay
from gateway.settings import WorkHours
from gateway.usecases import cards_io
from gateway.usecases.cards_io import CardPorts, DeliveryPolicy
from gateway.usecases.groups import check_groups

log = logging.getLogger(__name__)


class SyncPorts(CardPorts, DeliveryPolicy, Protocol):
    """What a sync pass needs besides the cards' ports."""

    pools: RelayPools
    remind_after_hours: float  # REMIND_AFTER_HOURS
    work_hours: WorkHours  # WORK_HOURS
    users_group: str  # ONEC_USERS_GROUP, which check_groups applies


@dataclass
class SyncReport:
    """What one pass did, for logs, /status and tests; `a + b` counts both."""

    pending: int = 0
    delivered: int = 0
    refreshed: int = 0
    closed: int = 0
    reminded: int = 0
    errors: list[str] = field(default_factory=list)

    def __add__(self, other: SyncReport) -> SyncReport:
        """Both reports' counts added and errors joined, field by field."""
        return SyncReport(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


def sync_pass(ctx: SyncPorts) -> SyncReport:
    """One pass over 1C's pending tasks against the cards approvers hold.

    Raises UpstreamUnavailable when 1C (or Telegram) cannot be reached (the pass stops starting
    new work then); a failure to deliver one card is recorded and the pass goes on with the others.
    The cards go out on `ctx.pools` in the order `gateway.scheduling.relay` keeps.
    """
    report = SyncReport()
    pending = list(ctx.onec.pending_tasks())
    report.pending = len(pending)
    tracked = ctx.deliveries.tracked_tasks()
    links = _by_user(check_groups(ctx, ctx.links.all_links(), tracked))
    work = [(task, _approvers(ctx, task, links)) for task in _interleaved(pending)]
    work = [(task, approvers) for task, approvers in work if approvers or task.id in tracked]
    renditions = [_rendition(ctx, task, approvers, tracked) for task, approvers in work]

    def prepare(index: int) -> Document:
        return cards_io.fetch_document(ctx, work[index][0])

    def send(index: int, document: Future[Document] | None) -> SyncReport:
        task, approvers = work[index]
        return _sync_one(ctx, task, approvers, tracked, document)

    for part in relay(ctx.pools, renditions, prepare, send):
        report += part
    for task_id in tracked - {task.id for task, _ in work}:
        try:
            finish(ctx, task_id)
            report.closed += 1
        except UpstreamUnavailable:
            raise
        except GatewayError as exc:
            report.errors.append(f"task {task_id}: {exc}")
            log.warning("closing task %s failed: %s", task_id, exc)
    return report


def _by_user(links: list[UserLink]) -> dict[str, list[UserLink]]:
    """The links by 1C user id (one 1C user may be linked from several places)."""
    found: dict[str, list[UserLink]] = defaultdict(list)
    for link in links:
        found[link.onec_user_id].append(link)
    return found


def _interleaved(tasks: list[Task]) -> list[Task]:
    """The tasks with addressees taken in turn: a, b, c, a, b, c, ... (order kept per addressee)."""
    return interleave(tasks, key=lambda task: ",".join(p.id for p in task.deciders))


def _approvers(ctx: DeliveryPolicy, task: Task, links: dict[str, list[UserLink]]) -> list[UserLink]:
    """The linked Telegram accounts that get the task's card: everyone who may decide it now
    (its performer, or every candidate of its role); nobody for other tasks set to `off`."""
    if not cards_io.delivers(ctx, task):
        return []
    return [link for person in task.deciders for link in links.get(person.id, [])]


def _rendition(ctx: SyncPorts, task: Task, approvers: list[UserLink], tracked: set[str]) -> str:
    """The rendition key of the document a new card of `task` attaches; "" when no card is
    new or it attaches none."""
    if task.id in tracked or not approvers or not ctx.send_pdf or task.subject.denied is not None:
        return ""
    return rendition_key(task, ctx.renderer.template_for(task), ctx.renderer.engine)


def _sync_one(
    ctx: SyncPorts,
    task: Task,
    approvers: list[UserLink],
    tracked: set[str],
    prepared: Future[Document] | None,
) -> SyncReport:
    """One task's part of the pass, run by a sender; an unreachable upstream stops the pass."""
    report = SyncReport()
    try:
        _sync_task(ctx, task, approvers, task.id in tracked, report, prepared)
    except UpstreamUnavailable:
        raise
    except GatewayError as exc:
        report.errors.append(f"task {task.id}: {exc}")
        log.warning("sync of task %s failed: %s", task.id, exc)
    return report


def _sync_task(
    ctx: SyncPorts,
    task: Task,
    approvers: list[UserLink],
    tracked: bool,
    report: SyncReport,
    prepared: Future[Document] | None = None,
) -> None:
    cards_held = (
        {d.chat_id: d for d in ctx.deliveries.deliveries_for_task(task.id)} if tracked else {}
    )
    # While a decision is on its way, 1C may already show its approver as the only performer:
    # the other cards are the outbox's to close, with who decided.
    deciding = any(d.deciding for d in cards_held.values())
    for link in approvers:
        held = cards_held.pop(link.chat_id, None)
        if held is not None and held.deciding:
            continue  # the approver decided; the outbox brings the card up to date
        if held is None:
            report.delivered += cards_io.deliver(ctx, task, link, prepared)
            prepared = None  # one approver uploads; the others reuse its file id
        elif held.version != task.version:
            cards_io.refresh(ctx, task, held, link)
            report.refreshed += 1
        elif task.is_approval and _remind(ctx, held):
            report.reminded += 1
    # Cards of people who may no longer decide: the task went to someone else, or its role's
    # candidates in 1C changed, or the holder was unlinked.
    gone = ctx.texts.t("outcome.reassigned" if task.performer else "outcome.not_addressed")
    for stale in [] if deciding else cards_held.values():
        cards_io.close(ctx, stale, [gone])
        report.closed += 1


def sync_tasks(ctx: SyncPorts, task_ids: list[str]) -> SyncReport:
    """Sync only the named tasks (1C pushed their events): one read each, no full listing."""
    report = SyncReport()
    links = _by_user(ctx.links.all_links())
    tracked = ctx.deliveries.tracked_tasks()
    for task_id in task_ids:
        try:
            task = ctx.onec.get_task(task_id)
        except NotFound:
            if task_id in tracked:
                finish(ctx, task_id, None)
                report.closed += 1
            continue
        except UpstreamUnavailable:
            raise
        except GatewayError as exc:
            report.errors.append(f"task {task_id}: {exc}")
            continue
        if task.is_pending:
            report.pending += 1
            _sync_task(ctx, task, _approvers(ctx, task, links), task_id in tracked, report)
        elif task_id in tracked:
            finish(ctx, task_id, task)
            report.closed += 1
    return report


_UNREAD = object()


def finish(ctx: CardPorts, task_id: str, known: object = _UNREAD) -> None:
    """A tracked task left 1C's pending list: say how it ended on every card of it.

    `known` is the task as just read (None: gone from 1C); unread, it is read here.
    """
    task: Task | None
    if isinstance(known, Task) or known is None:
        task = known
    else:
        try:
            task = ctx.onec.get_task(task_id)
        except NotFound:
            task = None  # deleted in 1C: for the approver that is a cancellation
    if task is not None and task.is_pending:
        return  # the listing raced a change; the next pass sees it
    for delivery in ctx.deliveries.deliveries_for_task(task_id):
        if delivery.deciding:
            continue  # our own decision finished it; the outbox edits this card
        if task is None or task.state is TaskState.CANCELLED:
            cards_io.close(ctx, delivery, [ctx.texts.t("outcome.cancelled")])
            _announce_cancelled(ctx, task, delivery)
        else:
            cards_io.close(ctx, delivery, cards_io.outcome_tail(ctx, task))


def _announce_cancelled(ctx: CardPorts, task: Task | None, delivery: Delivery) -> None:
    """One new message: the document, captioned «Согласование отменено: …»."""
    subject = task.subject.presentation or task.title if task else ""
    if not subject:
        subject = next((line for line in delivery.text.split("\n") if line), "")
        subject = cards.card_subject(subject, ctx.base, ctx.texts)
    caption = cards.in_base(
        ctx.base, ctx.texts, ctx.texts.t("cancelled.caption", subject=escape(subject))
    )
    try:
        if task is not None and ctx.send_pdf and task.subject.denied is None:
            document = cards_io.fetch_document(ctx, task)
            if not document.too_large:
                attachment = Attachment(document.filename, document.content, document.file_id)
                ctx.messenger.send_document(delivery.chat_id, attachment, cards.fit([caption], []))
                return
        ctx.messenger.send_text(delivery.chat_id, caption)
    except RecipientBlocked:
        log.warning("user %s blocked the bot; cancellation not announced", delivery.chat_id)


def _remind(ctx: SyncPorts, delivery: Delivery) -> bool:
    """Bring the card up again when it waited REMIND_AFTER_HOURS, within working hours."""
    if ctx.remind_after_hours <= 0:
        return False
    now = ctx.now()
    since = delivery.reminded_at or delivery.delivered_at
    if now - since < timedelta(hours=ctx.remind_after_hours):
        return False
    if not ctx.work_hours.contains(now.hour):
        return False
    try:
        ctx.messenger.send_text(
            delivery.chat_id,
            ctx.texts.t("reminder", since=cards.format_moment(delivery.delivered_at)),
            reply_to=delivery.message_id,
        )
    except RecipientBlocked:
        return False
    ctx.deliveries.save_delivery(cards_io.with_reminded(delivery, ctx))
    return True
