"""The task card: an HTML caption within Telegram's limit, the decision keyboard, outcome lines."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from gateway.domain.documents import Document, DocumentSource
from gateway.domain.infobases import Infobase
from gateway.domain.tasks import Decision, Task
from gateway.ports.messenger import Button
from gateway.presentation import callbacks
from gateway.presentation.texts import Texts, escape

CAPTION_LIMIT: Final = 1024  # visible characters after parsing, counted in UTF-16 units
MESSAGE_LIMIT: Final = 4096
MAX_CARD_FIELDS: Final = 6  # the document's fields a card shows at most; the PDF has them all
CARD_FIELDS: Final = MAX_CARD_FIELDS  # key fields on the card by default (TELEGRAM_CARD_FIELDS)
_SKIP_FIELDS: Final = {"номер", "дата", "number", "date"}  # already in the presentation
_TAG_RE = re.compile(r"<[^>]+>")
ELLIPSIS: Final = "…"


def visible_text(html_text: str) -> str:
    """What Telegram shows of `html_text`: tags removed, entities decoded."""
    return html.unescape(_TAG_RE.sub("", html_text))


def visible_length(html_text: str) -> int:
    """Length Telegram counts: text without tags, entities as one character, in UTF-16 units."""
    text = html.unescape(_TAG_RE.sub("", html_text))
    return len(text.encode("utf-16-le")) // 2


def format_moment(moment: datetime) -> str:
    """A date-time as approvers read it: 27.11.2026 10:15."""
    return moment.strftime("%d.%m.%Y %H:%M")


def base_title(base: Infobase) -> str:
    """How approvers read a base's name: its ONEC_<B>_TITLE, else the name upper-cased."""
    return escape(base.title or base.name.upper())


def in_base(base: Infobase, texts: Texts, html_text: str) -> str:
    """`html_text` headed by the base's title when the gateway serves several bases.

    The title shares the first line (not a line of its own) so the first line still names the
    task: it is what the outbox and reason prompts quote as the card's subject.
    """
    if not base.named:
        return html_text
    return texts.t("base.line", base=base_title(base), text=html_text)


def card_lines(
    task: Task, texts: Texts, max_fields: int = CARD_FIELDS, base: Infobase | None = None
) -> list[str]:
    """The card's lines, most important first (cut from the end to fit); a card of a named
    base (several bases) opens with the base's title."""
    title = f"<b>{escape(task.title or texts.t('card.title'))}</b>"
    lines = [in_base(base, texts, title) if base is not None else title]
    if task.subject.presentation and task.subject.presentation not in task.title:
        lines.append(escape(task.subject.presentation))
    shown = 0
    # A document withheld by 1C's access rights shows nothing of its content, whatever came.
    fields = task.subject.fields if task.subject.denied is None else ()
    for field in fields:
        if field.name.strip().lower() in _SKIP_FIELDS or not field.value or shown >= max_fields:
            continue
        lines.append(f"{escape(field.name)}: <b>{escape(field.value)}</b>")
        shown += 1
    if task.initiator.name:
        lines.append(f"{texts.t('card.initiator')}: {escape(task.initiator.name)}")
    stage = task.stage.name
    if task.stage.count:
        of = texts.t("card.stage_of", number=task.stage.number, count=task.stage.count)
        stage = f"{stage} ({of})" if stage else of
    if stage:
        lines.append(f"{texts.t('card.stage')}: {escape(stage)}")
    if task.performer is None and task.role is not None:
        lines.append(f"{texts.t('card.role')}: {escape(task.role.name)}")
    due = format_moment(task.due_at) if task.due_at else texts.t("card.no_due")
    lines.append(f"{texts.t('card.due')}: {due}")
    importance = texts.importance(task.importance)
    if importance:
        lines.append(f"<b>{importance}</b>")
    return lines


def document_lines(document: Document, texts: Texts) -> list[str]:
    """The lines under a card with its PDF: where the PDF came from, and whether it was cut.

    They go in `fit`'s tail, so the note that the PDF shows only the first rows stays however
    long the card is.
    """
    source = (
        "card.pdf.print_form"
        if document.source is DocumentSource.PRINT_FORM
        else "card.pdf.rendered"
    )
    lines = [f"<i>{texts.t(source)}</i>"]
    if document.cut:
        note = texts.t("card.pdf.cut", shown=document.rows_shown, total=document.rows_total)
        lines.append(f"<i>{note}</i>")
    return lines


def fit(lines: Sequence[str], tail: Sequence[str] = (), limit: int = CAPTION_LIMIT) -> str:
    """Join `lines` and `tail` within `limit` visible characters.

    The tail (outcome, notes) always stays; card lines are dropped from the end, and the last
    one kept is shortened with an ellipsis, so the caption degrades instead of failing.
    """
    kept = list(lines)
    while kept:
        text = "\n".join([*kept, *tail])
        if visible_length(text) <= limit:
            return text
        if len(kept) == 1:
            break
        kept.pop()
    room = limit - visible_length("\n".join(tail)) - (1 if tail else 0)
    head = _shorten(kept[0] if kept else "", room)
    return "\n".join([head, *tail]) if head else "\n".join(tail)[:limit]


def _shorten(line: str, room: int) -> str:
    """The line's text cut to `room` visible characters, tags dropped (they may not survive)."""
    if room <= 0:
        return ""
    text = html.unescape(_TAG_RE.sub("", line))
    while len(text.encode("utf-16-le")) // 2 > room - 1 and text:
        text = text[:-1]
    return escape(text + ELLIPSIS)


def keyboard(
    task: Task, texts: Texts, secret: str, chat_id: int, base: str = ""
) -> list[list[Button]]:
    """One row per allowed decision, each with callback data signed for this chat (and base,
    when named); none for a task that is not an approval (it is done in 1C, never decided from
    Telegram)."""
    if not task.is_approval:
        return []
    return [
        [
            Button(
                texts.button(decision),
                callbacks.sign(secret, chat_id, decision, task.id, task.version, base),
            )
        ]
        for decision in Decision
        if task.allows(decision)
    ]


def outcome_lines(
    texts: Texts, decision: Decision, who: str, when: datetime, comment: str
) -> list[str]:
    """Who decided what and when, and the comment: the lines added to a decided card."""
    lines = [
        texts.t(
            "outcome.line",
            outcome=texts.outcome(decision),
            who=escape(who),
            when=format_moment(when),
        )
    ]
    if comment.strip():
        lines.append(texts.t("outcome.comment", comment=escape(comment.strip())))
    return lines
