"""TELEGRAM_SEND_PDF and TELEGRAM_CARD_FIELDS: how much of a document leaves for Telegram.

The store, and the PDF renderer where a PDF is made, are real; 1C and Telegram are the shared
fakes of our ports, as tests/integration/test_pdf_cards.py uses them.
"""

from __future__ import annotations

import dataclasses

from adapters.pdf import create_renderer
from adapters.redis_store import RedisStore, connect
from gateway.bootstrap import build
from gateway.domain.tasks import Field, Task
from gateway.settings import Settings
from gateway.usecases import cards_io
from tests.conftest import SANDBOX_TOKEN, TEST_SECRET
from tests.factories import make_task
from tests.fakes import FakeRenderer
from tests.integration.test_pdf_cards import LINK, URL, Chat, context


def task_with_fields(task_id: str, count: int) -> Task:
    task = make_task(task_id)
    fields = tuple(Field(f"Реквизит {n}", f"значение {n}") for n in range(1, count + 1))
    subject = dataclasses.replace(task.subject, id=f"doc-{task_id}", fields=fields)
    return dataclasses.replace(task, subject=subject)


def test_with_send_pdf_off_the_card_goes_as_text_and_no_pdf_is_made(redis_prefix) -> None:
    chat = Chat()
    # A fake renderer is enough to show none was asked for.
    renderer = FakeRenderer()
    store = RedisStore(connect(URL), redis_prefix)
    ctx = dataclasses.replace(context(store, redis_prefix, chat, renderer), send_pdf=False)
    assert cards_io.deliver(ctx, task_with_fields("no-pdf", 3), LINK)
    assert chat.documents == []
    assert len(chat.text_cards) == 1
    assert "Реквизит 1: <b>значение 1</b>" in chat.text_cards[0]
    assert "PDF" not in chat.text_cards[0]  # no «PDF не приложен» note: leaving it out was chosen
    assert renderer.renders == 0


def test_the_card_shows_only_as_many_fields_as_telegram_card_fields_allows(redis_prefix) -> None:
    chat = Chat()
    store = RedisStore(connect(URL), redis_prefix)
    ctx = dataclasses.replace(context(store, redis_prefix, chat, create_renderer()), card_fields=2)
    assert cards_io.deliver(ctx, task_with_fields("two", 5), LINK)
    caption = chat.documents[0][1]
    assert "Реквизит 2" in caption
    assert "Реквизит 3" not in caption


def test_the_settings_reach_the_flow_context_the_worker_uses() -> None:
    env = {
        "ONEC_BASE_URL": "http://srv/uh",
        "TELEGRAM_BOT_TOKEN": SANDBOX_TOKEN,
        "GATEWAY_SECRET": TEST_SECRET,
        "TELEGRAM_SEND_PDF": "false",
        "TELEGRAM_CARD_FIELDS": "0",
    }
    gateway = build(Settings.from_env(env))  # nothing connects until first use
    try:
        flow = gateway.flow()
    finally:
        gateway.close()
    assert (flow.send_pdf, flow.card_fields) == (False, 0)
