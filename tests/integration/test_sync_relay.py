"""The sync pass relays new cards with several sends in flight, on the real Redis store.

The shared fakes stand in for 1C, the PDF engine and Telegram (our own ports); the store and
the document cache are the Redis adapters. What must hold with concurrent senders: each card is
sent once, each document rendered and uploaded once whatever the number of its approvers, sends
overlap, and an unreachable Telegram stops the pass with every unsent card left for the next one.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime, timedelta, timezone

import pytest

from adapters.redis_store import RedisStore, connect
from gateway.domain.records import MessageRef, UserLink
from gateway.domain.tasks import Person, Task
from gateway.errors import UpstreamUnavailable
from gateway.ports.messenger import Attachment, Markup, Sent
from gateway.usecases.context import FlowContext
from gateway.usecases.sync import sync_pass
from tests.conftest import redis_context
from tests.factories import make_task
from tests.fakes import FakeMessenger, FakeOneC, FakeRenderer

URL = "redis://127.0.0.1:6379/0"
MSK = timezone(timedelta(hours=3))
DOCUMENTS = 4
APPROVERS_PER_DOCUMENT = 5


def approver(n: int) -> UserLink:
    return UserLink(
        telegram_user_id=1000 + n,
        chat_id=1000 + n,
        onec_user_id=f"user-{n}",
        onec_user_name=f"Согласующий {n}",
        phone=f"7912000{n:04d}",
        linked_at=datetime(2026, 11, 27, 9, 0, tzinfo=MSK),
    )


def tasks() -> list[Task]:
    """DOCUMENTS documents, each under approval by APPROVERS_PER_DOCUMENT approvers."""
    made = []
    for d in range(DOCUMENTS):
        for a in range(APPROVERS_PER_DOCUMENT):
            task = make_task(f"task-{d}-{a}")
            made.append(
                dataclasses.replace(
                    task,
                    performer=Person(f"user-{d * APPROVERS_PER_DOCUMENT + a}", "Согласующий"),
                    subject=dataclasses.replace(task.subject, id=f"doc-{d}"),
                )
            )
    return made


class Telegram(FakeMessenger):
    """Answers sends from several threads; the first send waits until a second one arrives
    (so a pass that sends one card at a time is caught), or `down` refuses everything."""

    def __init__(self, down: bool = False) -> None:
        super().__init__()
        self.down = down
        self.lock = threading.Lock()
        self.cards: list[tuple[int, str]] = []  # (chat, "upload" | file id)
        self.attempts = 0
        self.second_arrived = threading.Event()
        self.overlapped = False

    def send_document(
        self, chat_id: int, document: Attachment, caption_html: str, markup: Markup | None = None
    ) -> Sent:
        with self.lock:
            self.attempts += 1
            first = self.attempts == 1
        if self.down:
            raise UpstreamUnavailable("Telegram", "connection refused")
        if first:
            self.overlapped = self.second_arrived.wait(timeout=5)
        else:
            self.second_arrived.set()
        with self.lock:
            self.cards.append((chat_id, document.file_id or "upload"))
            message_id = len(self.cards)
        file_id = None if document.file_id else f"file-{document.filename}-{message_id}"
        return Sent(MessageRef(chat_id, message_id), file_id=file_id)

    def send_text(
        self, chat_id: int, html: str, markup: Markup | None = None, reply_to: int | None = None
    ) -> Sent:
        raise AssertionError(f"a text instead of a card to {chat_id}: {html}")


@pytest.fixture
def store(redis_prefix: str) -> RedisStore:
    made = RedisStore(connect(URL), redis_prefix)
    for n in range(DOCUMENTS * APPROVERS_PER_DOCUMENT):
        made.save_link(approver(n))
    return made


def context(
    store: RedisStore, prefix: str, telegram: Telegram, renderer: FakeRenderer
) -> FlowContext:
    return redis_context(
        store, URL, prefix, onec=FakeOneC(tasks()), messenger=telegram, renderer=renderer
    )


def test_cards_go_out_concurrently_once_each_with_one_render_and_upload_per_document(
    store: RedisStore, redis_prefix: str
) -> None:
    telegram, renderer = Telegram(), FakeRenderer()
    report = sync_pass(context(store, redis_prefix, telegram, renderer))
    total = DOCUMENTS * APPROVERS_PER_DOCUMENT
    assert report.delivered == total and report.errors == []
    assert sorted(chat for chat, _ in telegram.cards) == [1000 + n for n in range(total)]
    assert renderer.renders == DOCUMENTS
    assert [how for _, how in telegram.cards].count("upload") == DOCUMENTS
    assert telegram.overlapped, "the first send finished alone: cards went one at a time"
    assert sync_pass(context(store, redis_prefix, Telegram(), renderer)).delivered == 0


def test_an_unreachable_telegram_stops_the_pass_and_leaves_every_card_for_the_next(
    store: RedisStore, redis_prefix: str
) -> None:
    down = Telegram(down=True)
    with pytest.raises(UpstreamUnavailable):
        sync_pass(context(store, redis_prefix, down, FakeRenderer()))
    assert down.attempts < DOCUMENTS * APPROVERS_PER_DOCUMENT  # it stopped starting sends
    back = Telegram()
    report = sync_pass(context(store, redis_prefix, back, FakeRenderer()))
    assert report.delivered == DOCUMENTS * APPROVERS_PER_DOCUMENT
