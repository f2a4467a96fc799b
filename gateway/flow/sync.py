"""The sync pass: new tasks delivered once, changed ones refreshed, finished ones closed,
cancelled approvals announced with the document, reminders in working hours."""

from __future__ import annotations

import logging
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import zip_longest

from gateway import cards
from gateway.documents import Document, document_for, rendition_key
from gateway.domain import Task, TaskState, UserLink
from gateway.errors import GatewayError, NotFound, RecipientBlocked, UpstreamUnavailable
from gateway.flow import cards_io
from gateway.flow.context import FlowContext
from gateway.ports import Attachment, Delivery
from gateway.texts import escape

log = logging.getLogger(__name__)

PREPARE_WORKERS = 2  # PDF engines run as subprocesses: two keep both cores busy


@dataclass
class SyncReport:
    """What one pass did, for logs, /status and tests."""

    pending: int = 0
    delivered: int = 0
    refreshed: int = 0
    closed: int = 0
    reminded: int = 0
    errors: list[str] = field(default_factory=list)


def sync_pass(ctx: FlowContext) -> SyncReport:
    """One pass over 1C's pending tasks against the cards approvers hold.

    Raises UpstreamUnavailable when 1C cannot be read (nothing is changed then); a failure
    to deliver one card is recorded and the pass goes on with the others.
    """
    report = SyncReport()
    pending = list(ctx.onec.pending_tasks())
    report.pending = len(pending)
    links: dict[str, list[UserLink]] = defaultdict(list)
    for link in ctx.store.all_links():
        links[link.onec_user_id].append(link)
    tracked = ctx.store.tracked_tasks()
    # One approver's tasks side by side would each wait out the per-chat flood limit (about
    # one message a second) while other chats idle: take the approvers in turn instead.
    pending = _interleaved(pending)
    with ThreadPoolExecutor(PREPARE_WORKERS, thread_name_prefix="pdf") as pool:
        prepared = _prepare_documents(ctx, pool, pending, links, tracked)
        try:
            for task in pending:
                approvers = links.get(task.performer.id, [])
                if not approvers and task.id not in tracked:
                    continue
                _sync_one(ctx, task, approvers, tracked, report, prepared.get(task.id))
        finally:
            for future in prepared.values():
                future.cancel()  # not needed after all (or the pass failed): render no more
    for task_id in tracked - {t.id for t in pending}:
        try:
            finish(ctx, task_id)
            report.closed += 1
        except UpstreamUnavailable:
            raise
        except GatewayError as exc:
            report.errors.append(f"task {task_id}: {exc}")
            log.warning("closing task %s failed: %s", task_id, exc)
    return report


def _interleaved(tasks: list[Task]) -> list[Task]:
    """The tasks with performers taken in turn: a, b, c, a, b, c, ... (order kept per performer)."""
    queues: dict[str, list[Task]] = defaultdict(list)
    for task in tasks:
        queues[task.performer.id].append(task)
    return [task for row in zip_longest(*queues.values()) for task in row if task is not None]


def _prepare_documents(
    ctx: FlowContext,
    pool: ThreadPoolExecutor,
    pending: list[Task],
    links: dict[str, list[UserLink]],
    tracked: set[str],
) -> dict[str, Future[Document]]:
    """Start making the documents of new cards, one per document version, in the background.

    Only the first task of each rendition gets a prepared document: later approvers of the same
    document get the first upload's file id from the cache, so nothing is uploaded twice.
    """
    prepared: dict[str, Future[Document]] = {}
    seen: set[str] = set()
    for task in pending:
        if task.id in tracked or not links.get(task.performer.id):
            continue
        key = rendition_key(task, ctx.renderer.template_for(task), ctx.renderer.engine)
        if key in seen:
            continue
        seen.add(key)
        prepared[task.id] = pool.submit(cards_io.fetch_document, ctx, task)
    return prepared


def _sync_one(
    ctx: FlowContext,
    task: Task,
    approvers: list[UserLink],
    tracked: set[str],
    report: SyncReport,
    prepared: Future[Document] | None,
) -> None:
    try:
        _sync_task(ctx, task, approvers, task.id in tracked, report, prepared)
    except UpstreamUnavailable:
        raise
    except GatewayError as exc:
        report.errors.append(f"task {task.id}: {exc}")
        log.warning("sync of task %s failed: %s", task.id, exc)


def _sync_task(
    ctx: FlowContext,
    task: Task,
    approvers: list[UserLink],
    tracked: bool,
    report: SyncReport,
    prepared: Future[Document] | None = None,
) -> None:
    cards_held = {d.chat_id: d for d in ctx.store.deliveries_for_task(task.id)} if tracked else {}
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
        elif _remind(ctx, held):
            report.reminded += 1
    for stale in cards_held.values():  # the task now belongs to someone else
        cards_io.close(ctx, stale, [ctx.texts.t("outcome.reassigned")])
        report.closed += 1


def sync_tasks(ctx: FlowContext, task_ids: list[str]) -> SyncReport:
    """Sync only the named tasks (1C pushed their events): one read each, no full listing."""
    report = SyncReport()
    links: dict[str, list[UserLink]] = defaultdict(list)
    for link in ctx.store.all_links():
        links[link.onec_user_id].append(link)
    tracked = ctx.store.tracked_tasks()
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
            _sync_task(ctx, task, links.get(task.performer.id, []), task_id in tracked, report)
        elif task_id in tracked:
            finish(ctx, task_id, task)
            report.closed += 1
    return report


_UNREAD = object()


def finish(ctx: FlowContext, task_id: str, known: object = _UNREAD) -> None:
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
    for delivery in ctx.store.deliveries_for_task(task_id):
        if delivery.deciding:
            continue  # our own decision finished it; the outbox edits this card
        if task is None or task.state is TaskState.CANCELLED:
            cards_io.close(ctx, delivery, [ctx.texts.t("outcome.cancelled")])
            _announce_cancelled(ctx, task, delivery)
        else:
            cards_io.close(ctx, delivery, cards_io.outcome_tail(ctx, task))


def _announce_cancelled(ctx: FlowContext, task: Task | None, delivery: Delivery) -> None:
    """One new message: the document, captioned «Согласование отменено: …»."""
    subject = task.subject.presentation or task.title if task else ""
    if not subject:
        subject = next((line for line in delivery.text.split("\n") if line), "")
        subject = cards.visible_text(subject)
    caption = ctx.texts.t("cancelled.caption", subject=escape(subject))
    try:
        if task is not None:
            document = document_for(
                task,
                onec=ctx.onec,
                renderer=ctx.renderer,
                cache=ctx.documents,
                prefer_print_form=ctx.prefers_print_form,
                language=ctx.texts.language,
            )
            if not document.too_large:
                attachment = Attachment(document.filename, document.content, document.file_id)
                ctx.messenger.send_document(delivery.chat_id, attachment, cards.fit([caption], []))
                return
        ctx.messenger.send_text(delivery.chat_id, caption)
    except RecipientBlocked:
        log.warning("user %s blocked the bot; cancellation not announced", delivery.chat_id)


def _remind(ctx: FlowContext, delivery: Delivery) -> bool:
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
    ctx.store.save_delivery(cards_io.with_reminded(delivery, ctx))
    return True
