"""A card with the real PDF renderer: a cut document says so on the card, and a document the
engine stops (past its time) goes as a text card with a note while the worker carries on.

The renderer and the Redis store are real; 1C and Telegram are the shared fakes of our ports.
"""

from __future__ import annotations

import dataclasses
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from adapters.pdf import HtmlPdfRenderer, create_renderer
from adapters.pdf.weasyprint_engine import WeasyPrintEngine
from adapters.redis_store import RedisStore, connect
from gateway.domain.documents import MAX_TABLE_ROWS
from gateway.domain.records import UserLink
from gateway.domain.tasks import Person, Table, Task
from gateway.ports.documents import PdfRenderer
from gateway.usecases import cards_io
from gateway.usecases.context import FlowContext
from tests.conftest import redis_context
from tests.factories import make_task
from tests.fakes import FakeMessenger

URL = "redis://127.0.0.1:6379/0"
MSK = timezone(timedelta(hours=3))
LINK = UserLink(
    telegram_user_id=4242,
    chat_id=4242,
    onec_user_id="user-1",
    onec_user_name="Иванова Мария Сергеевна",
    phone="79120000001",
    linked_at=datetime(2026, 11, 27, 9, 0, tzinfo=MSK),
)


class Chat(FakeMessenger):
    """The shared fake Telegram, read as what the card went out as: a document with its
    caption, or a text."""

    @property
    def documents(self) -> list[tuple[bytes, str]]:
        """(PDF bytes, caption) of each document uploaded."""
        return [
            (m.document.content, m.html)
            for m in self.sent
            if m.document is not None and m.document.content is not None
        ]

    @property
    def text_cards(self) -> list[str]:
        """Each card sent as a text message."""
        return [m.html for m in self.sent if m.document is None]


@pytest.fixture
def store(redis_prefix: str) -> RedisStore:
    return RedisStore(connect(URL), redis_prefix)


def context(store: RedisStore, prefix: str, chat: Chat, renderer: PdfRenderer) -> FlowContext:
    return redis_context(store, URL, prefix, messenger=chat, renderer=renderer)


def task_with_rows(task_id: str, rows: int) -> Task:
    task = make_task(task_id)
    table = Table(
        "Расшифровка", ("№", "Сумма"), tuple((str(n), f"{n} 000,00") for n in range(1, rows + 1))
    )
    subject = dataclasses.replace(task.subject, id=f"doc-{task_id}", tables=(table,))
    return dataclasses.replace(task, subject=subject, performer=Person("user-1", "Иванова"))


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return " ".join(done.stdout.decode("utf-8").split())


def test_a_cut_document_says_so_in_the_pdf_and_on_the_card(
    store: RedisStore, redis_prefix: str
) -> None:
    chat = Chat()
    total = MAX_TABLE_ROWS + 20
    ctx = context(store, redis_prefix, chat, create_renderer("pdfkit"))
    assert cards_io.deliver(ctx, task_with_rows("cut", total), LINK)
    [(pdf, caption)] = chat.documents
    assert f"В PDF показаны первые {MAX_TABLE_ROWS} строк из {total}" in caption
    assert f"Показаны первые {MAX_TABLE_ROWS} строк из {total}" in pdf_text(pdf)


def test_a_document_stopped_past_its_time_goes_as_a_text_card_and_the_next_one_renders(
    store: RedisStore, redis_prefix: str
) -> None:
    chat = Chat()
    # A test-only time bound no WeasyPrint process can meet (starting one takes longer).
    stopped = HtmlPdfRenderer(WeasyPrintEngine(timeout_seconds=0.05))
    ctx = context(store, redis_prefix, chat, stopped)
    assert cards_io.deliver(ctx, task_with_rows("slow", 800), LINK)
    [card] = chat.text_cards
    assert "PDF не приложен: документ не удалось сформировать" in card
    assert chat.documents == []
    healthy = context(store, redis_prefix, chat, create_renderer("weasyprint"))
    assert cards_io.deliver(healthy, task_with_rows("next", 3), LINK)
    [(pdf, _)] = chat.documents
    assert "3 000,00" in pdf_text(pdf)
