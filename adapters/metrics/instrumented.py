"""Decorators that time every call of the 1C, Telegram and PDF ports into the Metrics port.

Each implements its port by delegation, so the composition root wraps whichever adapter it
picked and the core never knows. Failed calls are timed too: a 1C that times out is exactly
what the histogram must show.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar

from gateway.domain.records import DecisionRequest, MessageRef
from gateway.domain.tasks import OneCUser, Task
from gateway.ports.documents import PdfRenderer
from gateway.ports.messenger import Attachment, Keyboard, Markup, Messenger, Sent
from gateway.ports.metrics import Metrics
from gateway.ports.onec import OneC


@contextmanager
def _timed(record: Callable[[str, float], None], label: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        record(label, time.perf_counter() - started)


Inner = TypeVar("Inner")


class _Instrumented(Generic[Inner]):
    """The wrapped port, and the Metrics method its calls are timed into."""

    def __init__(self, inner: Inner, record: Callable[[str, float], None]) -> None:
        self.inner = inner
        self._record = record

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.inner!r})"


class InstrumentedOneC(_Instrumented[OneC]):
    """The OneC port, each call timed with the method name as the `operation` label."""

    def __init__(self, inner: OneC, metrics: Metrics) -> None:
        super().__init__(inner, metrics.onec_request)

    def ping(self) -> None:
        """Timed ping."""
        with _timed(self._record, "ping"):
            self.inner.ping()

    def pending_tasks(self) -> list[Task]:
        """Timed pending tasks (read to the end, so paging is inside the timing)."""
        with _timed(self._record, "pending_tasks"):
            return list(self.inner.pending_tasks())

    def get_task(self, task_id: str) -> Task:
        """Timed get_task."""
        with _timed(self._record, "get_task"):
            return self.inner.get_task(task_id)

    def find_users_by_phone(self, phone: str) -> Sequence[OneCUser]:
        """Timed user lookup."""
        with _timed(self._record, "find_users_by_phone"):
            return self.inner.find_users_by_phone(phone)

    def print_form(self, task: Task) -> bytes | None:
        """Timed print form."""
        with _timed(self._record, "print_form"):
            return self.inner.print_form(task)

    def group_members(self, name: str) -> frozenset[str]:
        """Timed users group read."""
        with _timed(self._record, "group_members"):
            return self.inner.group_members(name)

    def submit_decision(self, request: DecisionRequest) -> Task:
        """Timed decision."""
        with _timed(self._record, "submit_decision"):
            return self.inner.submit_decision(request)


class InstrumentedMessenger(_Instrumented[Messenger]):
    """The Messenger port, each call timed with its Bot API method as the `method` label."""

    def __init__(self, inner: Messenger, metrics: Metrics) -> None:
        super().__init__(inner, metrics.telegram_request)

    def ping(self) -> None:
        """Timed getMe (cached by the bot, so mostly near zero)."""
        with _timed(self._record, "getMe"):
            self.inner.ping()

    def send_text(
        self, chat_id: int, html: str, markup: Markup | None = None, reply_to: int | None = None
    ) -> Sent:
        """Timed sendMessage."""
        with _timed(self._record, "sendMessage"):
            return self.inner.send_text(chat_id, html, markup, reply_to)

    def send_document(
        self, chat_id: int, document: Attachment, caption_html: str, markup: Markup | None = None
    ) -> Sent:
        """Timed sendDocument."""
        with _timed(self._record, "sendDocument"):
            return self.inner.send_document(chat_id, document, caption_html, markup)

    def edit(
        self, ref: MessageRef, html: str, *, is_caption: bool, keyboard: Keyboard = ()
    ) -> None:
        """Timed editMessageCaption or editMessageText."""
        method = "editMessageCaption" if is_caption else "editMessageText"
        with _timed(self._record, method):
            self.inner.edit(ref, html, is_caption=is_caption, keyboard=keyboard)

    def answer_callback(self, callback_id: str, text: str = "", alert: bool = False) -> None:
        """Timed answerCallbackQuery."""
        with _timed(self._record, "answerCallbackQuery"):
            self.inner.answer_callback(callback_id, text, alert)

    def set_commands(self, commands: Sequence[tuple[str, str]]) -> None:
        """Timed setMyCommands."""
        with _timed(self._record, "setMyCommands"):
            self.inner.set_commands(commands)


class InstrumentedRenderer(_Instrumented[PdfRenderer]):
    """The PdfRenderer port, each rendering timed with the engine as the `engine` label."""

    def __init__(self, inner: PdfRenderer, metrics: Metrics) -> None:
        super().__init__(inner, metrics.pdf_render)

    @property
    def engine(self) -> str:
        """The inner renderer's engine."""
        return self.inner.engine

    def template_for(self, task: Task) -> str:
        """The inner renderer's template name (not timed: no rendering happens)."""
        return self.inner.template_for(task)

    def render(self, task: Task) -> bytes:
        """Timed rendering."""
        with _timed(self._record, self.inner.engine):
            return self.inner.render(task)

    def ping(self) -> None:
        """The inner ping (cached by the renderer; not a rendering of a real document)."""
        self.inner.ping()
