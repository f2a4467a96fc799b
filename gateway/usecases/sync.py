"""The sync pass: new tasks delivered once, changed ones refreshed, finished ones closed,
cancelled approvals announced with the document, reminders in working hours."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict, deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import zip_longest
from typing import Any

from gateway.domain.records import Delivery, UserLink
from gateway.domain.tasks import Task, TaskState
from gateway.errors import GatewayError, NotFound, RecipientBlocked, UpstreamUnavailable
from gateway.ports.messenger import Attachment
from gateway.presentation import cards
from gateway.presentation.texts import escape
from gateway.usecases import cards_io
from gateway.usecases.context import FlowContext
from gateway.usecases.documents import Document, document_for, rendition_key
from gateway.usecases.groups import check_groups

log = logging.getLogger(__name__)

PREPARE_WORKERS = 2  # PDF engines run as subprocesses: two keep both cores busy
SEND_WORKERS = 6  # cards in flight at once: 30 a second even when a Bot API call takes 150 ms


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

    Raises UpstreamUnavailable when 1C (or Telegram) cannot be reached (the pass stops starting
    new work then); a failure to deliver one card is recorded and the pass goes on with the others.
    """
    report = SyncReport()
    pending = list(ctx.onec.pending_tasks())
    report.pending = len(pending)
    tracked = ctx.deliveries.tracked_tasks()
    links: dict[str, list[UserLink]] = defaultdict(list)
    for link in check_groups(ctx, ctx.links.all_links(), tracked):
        links[link.onec_user_id].append(link)
    # One approver's tasks side by side would each wait out the per-chat flood limit (about
    # one message a second) while other chats idle: take the approvers in turn instead.
    pending = [t for t in _interleaved(pending) if _approvers(ctx, t, links) or t.id in tracked]
    with ThreadPoolExecutor(PREPARE_WORKERS, thread_name_prefix="pdf") as pool:
        plan = _prepare_documents(ctx, pool, pending, links, tracked)
        try:
            _relay(ctx, pending, links, tracked, plan, report)
        finally:
            for future in plan.documents.values():
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
    """The tasks with addressees taken in turn: a, b, c, a, b, c, ... (order kept per addressee)."""
    queues: dict[str, list[Task]] = defaultdict(list)
    for task in tasks:
        queues[",".join(p.id for p in task.deciders)].append(task)
    return [task for row in zip_longest(*queues.values()) for task in row if task is not None]


def _approvers(ctx: FlowContext, task: Task, links: dict[str, list[UserLink]]) -> list[UserLink]:
    """The linked Telegram accounts that get the task's card: everyone who may decide it now
    (its performer, or every candidate of its role); nobody for other tasks set to `off`."""
    if not ctx.delivers(task):
        return []
    return [link for person in task.deciders for link in links.get(person.id, [])]


@dataclass
class _DocumentPlan:
    """Which document each new card attaches, and which card of a rendition goes first."""

    documents: dict[str, Future[Document]] = field(default_factory=dict)  # by the first task
    renditions: dict[str, str] = field(default_factory=dict)  # task id → rendition key


def _prepare_documents(
    ctx: FlowContext,
    pool: ThreadPoolExecutor,
    pending: list[Task],
    links: dict[str, list[UserLink]],
    tracked: set[str],
) -> _DocumentPlan:
    """Start making the documents of new cards, one per document version, in the background.

    Only the first task of each rendition gets a prepared document: later approvers of the same
    document get the first upload's file id from the cache, so nothing is uploaded twice.
    """
    plan = _DocumentPlan()
    seen: set[str] = set()
    for task in pending:
        if (
            task.id in tracked
            or not _approvers(ctx, task, links)
            or not ctx.send_pdf
            or task.subject.denied is not None
        ):
            continue
        key = rendition_key(task, ctx.renderer.template_for(task), ctx.renderer.engine)
        if key not in seen:
            seen.add(key)
            plan.documents[task.id] = pool.submit(cards_io.fetch_document, ctx, task)
        plan.renditions[task.id] = key
    return plan


def _relay(
    ctx: FlowContext,
    pending: list[Task],
    links: dict[str, list[UserLink]],
    tracked: set[str],
    plan: _DocumentPlan,
    report: SyncReport,
) -> None:
    """Sync the pending tasks in `pending` order, SEND_WORKERS at a time, into `report`.

    One send waits tens of milliseconds (over the internet, a hundred or more) on Telegram, so
    one at a time stays far under the bot-wide limit; the limiter, not this loop, paces sends.
    Senders never wait: a card whose document is still rendering is handed over when it is
    ready, and the other cards of a document being uploaded are held back until the upload
    is done, then send its file id.
    """
    stop = threading.Event()
    queue = deque(pending)
    held: dict[str, list[Task]] = {}  # rendition key → cards waiting for its first upload
    uploads: dict[Future[SyncReport], str] = {}  # the job uploading each rendition
    running: set[Future[SyncReport]] = set()
    failure: UpstreamUnavailable | None = None
    with ThreadPoolExecutor(SEND_WORKERS, thread_name_prefix="send") as senders:

        def start(task: Task, document: Future[Document] | None = None) -> Future[SyncReport]:
            approvers = _approvers(ctx, task, links)
            job = senders.submit(_sync_one, ctx, task, approvers, tracked, document, stop)
            running.add(job)
            return job

        while queue or running:
            rendering: set[Future[Any]] = set()
            while queue and not stop.is_set():
                task = queue[0]
                document = plan.documents.get(task.id)
                key = plan.renditions.get(task.id, "")
                if document is not None and not document.done():
                    rendering.add(document)  # keep 1C's order: this card is next when ready
                    break
                queue.popleft()
                if document is not None:
                    uploads[start(task, document)] = key
                    held[key] = []
                elif key in held:
                    held[key].append(task)
                else:
                    start(task)
            if stop.is_set():
                queue.clear()
            finished, _ = wait(running | rendering, return_when=FIRST_COMPLETED)
            for job in finished & running:
                running.discard(job)
                failure = _merge(job, report) or failure
                key = uploads.pop(job, "")
                for task in held.pop(key, []) if key else []:
                    if not stop.is_set():
                        start(task)
    if failure is not None:
        raise failure


def _merge(job: Future[SyncReport], report: SyncReport) -> UpstreamUnavailable | None:
    """Add a finished job's counts to `report`; the UpstreamUnavailable it raised, if any."""
    try:
        part = job.result()
    except UpstreamUnavailable as exc:
        return exc
    report.delivered += part.delivered
    report.refreshed += part.refreshed
    report.closed += part.closed
    report.reminded += part.reminded
    report.errors.extend(part.errors)
    return None


def _sync_one(
    ctx: FlowContext,
    task: Task,
    approvers: list[UserLink],
    tracked: set[str],
    prepared: Future[Document] | None,
    stop: threading.Event,
) -> SyncReport:
    """One task's part of the pass, run by a sender; stops the pass when an upstream is down."""
    report = SyncReport()
    if stop.is_set():
        return report
    try:
        _sync_task(ctx, task, approvers, task.id in tracked, report, prepared)
    except UpstreamUnavailable:
        stop.set()
        raise
    except GatewayError as exc:
        report.errors.append(f"task {task.id}: {exc}")
        log.warning("sync of task %s failed: %s", task.id, exc)
    return report


def _sync_task(
    ctx: FlowContext,
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


def sync_tasks(ctx: FlowContext, task_ids: list[str]) -> SyncReport:
    """Sync only the named tasks (1C pushed their events): one read each, no full listing."""
    report = SyncReport()
    links: dict[str, list[UserLink]] = defaultdict(list)
    for link in ctx.links.all_links():
        links[link.onec_user_id].append(link)
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
    for delivery in ctx.deliveries.deliveries_for_task(task_id):
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
        if task is not None and ctx.send_pdf and task.subject.denied is None:
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
    ctx.deliveries.save_delivery(cards_io.with_reminded(delivery, ctx))
    return True
