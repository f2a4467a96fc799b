"""Sending, editing and closing task cards in chats, keeping the delivery records in step."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import Protocol

from gateway.domain.documents import Document
from gateway.domain.records import Delivery, UserLink
from gateway.domain.tasks import OtherTasks, Task, TaskState
from gateway.errors import GatewayError, NotFound, RecipientBlocked
from gateway.ports.documents import DocumentCache, PdfRenderer
from gateway.ports.messenger import Attachment, Messenger
from gateway.ports.metrics import Metrics
from gateway.ports.onec import TaskSource
from gateway.ports.storage import DeliveryStore, MessageStore
from gateway.presentation import cards
from gateway.presentation.texts import Texts, escape
from gateway.usecases.alerts import AlertPorts, alert_admins
from gateway.usecases.documents import document_for, remember_upload

log = logging.getLogger(__name__)


class TextPorts(Protocol):
    """What wording a card's lines needs."""

    texts: Texts


class EditPorts(Protocol):
    """What editing and closing a card needs."""

    messenger: Messenger
    deliveries: DeliveryStore


class DocumentPorts(TextPorts, Protocol):
    """What fetching a card's document needs."""

    renderer: PdfRenderer
    documents: DocumentCache
    prefers_print_form: bool

    # Read-only, so a context holding a whole 1C connector (OneC) satisfies it too.
    @property
    def onec(self) -> TaskSource:
        """1C, asked for its own print form."""
        ...


class CardPorts(EditPorts, DocumentPorts, AlertPorts, Protocol):
    """What sending a card needs: the rest of the cards' ports, settings and the clock."""

    messages: MessageStore
    metrics: Metrics
    secret: str
    send_pdf: bool  # TELEGRAM_SEND_PDF
    card_fields: int  # TELEGRAM_CARD_FIELDS

    # A function as a dataclass field's default reads as a method: only a property matches it.
    @property
    def now(self) -> Callable[[], datetime]:
        """The clock a card's delivery and reminder times come from."""
        ...


class DeliveryPolicy(Protocol):
    """What deciding who gets a card needs."""

    other_tasks: str  # ONEC_OTHER_TASKS


def delivers(ctx: DeliveryPolicy, task: Task) -> bool:
    """True if approvers get a card of `task`: every approval, other tasks unless off."""
    return task.is_approval or ctx.other_tasks != OtherTasks.OFF


def fetch_document(ctx: DocumentPorts, task: Task) -> Document:
    """The task's PDF (cached, 1C's print form, or rendered): what a card attaches."""
    return document_for(
        task,
        onec=ctx.onec,
        renderer=ctx.renderer,
        cache=ctx.documents,
        prefer_print_form=ctx.prefers_print_form,
        language=ctx.texts.language,
    )


def deliver(
    ctx: CardPorts, task: Task, link: UserLink, prepared: Future[Document] | None = None
) -> bool:
    """Send the task's card to the linked approver once per task version; True if sent now.

    `prepared` is the document already being made for this card (the sync pass renders the
    next documents while earlier cards wait for their turn under the flood limits).
    """
    if not ctx.deliveries.claim_delivery(task.id, link.chat_id, task.version):
        return False
    try:
        _send_card(ctx, task, link, prepared)
    except RecipientBlocked:
        ctx.deliveries.close_delivery(task.id, link.chat_id)
        log.warning("user %s blocked the bot; card of task %s not delivered", link.chat_id, task.id)
        alert_admins(
            ctx,
            ctx.texts.t("admin.blocked", name=escape(link.onec_user_name), task=escape(task.title)),
        )
        return False
    except GatewayError:
        ctx.deliveries.close_delivery(task.id, link.chat_id)  # release the claim: next pass retries
        raise
    return True


def _send_card(
    ctx: CardPorts, task: Task, link: UserLink, prepared: Future[Document] | None
) -> None:
    texts = ctx.texts
    lines = cards.card_lines(task, texts, ctx.card_fields, ctx.base)
    keyboard = cards.keyboard(task, texts, ctx.secret, link.chat_id, ctx.base.name)
    # The line saying a task is for information only is part of the tail, so it is never cut.
    notify = [] if task.is_approval else [texts.t("card.notify")]
    note = ""
    document = None
    if task.subject.denied is not None:
        # 1C withholds the document from this approver: no print form, nothing rendered.
        notify.append(f"<i>{texts.t('card.denied', reason=escape(task.subject.denied))}</i>")
    try:
        if ctx.send_pdf and task.subject.denied is None:
            document = prepared.result() if prepared is not None else fetch_document(ctx, task)
    except GatewayError as exc:
        log.error("no PDF for task %s: %s", task.id, exc)
        note = texts.t("card.pdf.none", reason=texts.t("card.pdf.failed"))
    if document is not None and document.too_large:
        note = texts.t("card.pdf.none", reason=escape(document.note))
    if document is not None and not document.too_large:
        text = cards.fit(lines, [*notify, *cards.document_lines(document, texts)])
        sent = ctx.messenger.send_document(
            link.chat_id,
            Attachment(document.filename, content=document.content, file_id=document.file_id),
            text,
            keyboard or None,
        )
        if document.file_id is None and sent.file_id:
            remember_upload(document.key, sent.file_id, ctx.documents)
        is_caption = True
    else:
        text = cards.fit(
            lines, [*notify, *([f"<i>{note}</i>"] if note else [])], cards.MESSAGE_LIMIT
        )
        sent = ctx.messenger.send_text(link.chat_id, text, keyboard or None)
        is_caption = False
    ctx.deliveries.save_delivery(
        Delivery(
            task_id=task.id,
            chat_id=link.chat_id,
            message_id=sent.ref.message_id,
            version=task.version,
            is_caption=is_caption,
            delivered_at=ctx.now(),
            text=text,
            subject_version=task.subject.version,
        )
    )
    ctx.messages.remember_message(sent.ref, task.id)
    ctx.metrics.task_relayed()


def close(ctx: EditPorts, delivery: Delivery, tail: list[str]) -> None:
    """Remove the card's buttons and add `tail` (the outcome); the card stops being tracked."""
    edit(ctx, delivery, tail)
    ctx.deliveries.close_delivery(delivery.task_id, delivery.chat_id)


def edit(ctx: EditPorts, delivery: Delivery, tail: list[str], keyboard: bool = False) -> None:
    """Rewrite the card with `tail` under it and no buttons; a vanished message is no error."""
    limit = cards.CAPTION_LIMIT if delivery.is_caption else cards.MESSAGE_LIMIT
    body = [line for line in delivery.text.split("\n") if line]
    try:
        ctx.messenger.edit(
            delivery.ref, cards.fit(body, tail, limit), is_caption=delivery.is_caption
        )
    except NotFound:
        log.info("card %s was deleted in Telegram; nothing to edit", delivery.ref.key)


def outcome_tail(ctx: TextPorts, task: Task) -> list[str]:
    """The lines a finished task's card gets: who decided what, or that 1C did it."""
    if task.state is TaskState.CANCELLED:
        return [ctx.texts.t("outcome.cancelled")]
    lines = [ctx.texts.t("outcome.done_in_1c")]
    if task.result is not None:
        lines = cards.outcome_lines(
            ctx.texts,
            task.result.decision,
            task.name_of(task.result.user_id, task.addressee),
            task.result.at,
            "",
        )
    return lines


def refresh(
    ctx: CardPorts,
    task: Task,
    delivery: Delivery,
    link: UserLink,
    tail: list[str] | None = None,
) -> None:
    """The task changed (new stage data, new document version): retire the card with `tail`
    (by default, that it was superseded), send anew."""
    close(ctx, delivery, tail if tail is not None else [ctx.texts.t("outcome.superseded")])
    deliver(ctx, task, link)


def with_reminded(delivery: Delivery, ctx: CardPorts) -> Delivery:
    """The delivery marked as reminded now."""
    return dataclasses.replace(delivery, reminded_at=ctx.now())
