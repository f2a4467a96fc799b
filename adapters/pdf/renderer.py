"""The core's PdfRenderer port: task → template context → Jinja2 HTML → hardened engine → PDF."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Protocol

from adapters.pdf.context import LABELS, document_context
from adapters.pdf.hardening import neutralise
from adapters.pdf.templating import Templates
from gateway.domain.documents import bounded
from gateway.domain.tasks import (
    Decision,
    Field,
    Importance,
    Person,
    Stage,
    Subject,
    Table,
    Task,
    TaskState,
)
from gateway.errors import ConfigurationError, RenderFailed

PING_VALID_SECONDS: Final = 300.0
MAX_HTML_BYTES: Final = 4 * 1024**2
"""The largest page an engine is given. The core's bounds keep 1C's data to about 1 MB of
HTML; a page past this one comes from an installation's template, and is refused."""


class HtmlToPdf(Protocol):
    """A PDF engine as the renderer drives it (wkhtmltopdf or WeasyPrint)."""

    @property
    def name(self) -> str: ...

    @property
    def page_numbers(self) -> bool: ...

    def describe(self) -> str: ...

    def to_pdf(self, html: str) -> bytes: ...


def _now() -> datetime:
    return datetime.now().astimezone()


class HtmlPdfRenderer:
    """Renders a task's subject with the installation's templates on one engine."""

    def __init__(
        self,
        engine: HtmlToPdf,
        *,
        templates_dir: Path | None = None,
        language: str = "ru",
        clock: Callable[[], datetime] = _now,
    ) -> None:
        if language not in LABELS:
            raise ConfigurationError(f"PDF language {language!r} is not one of: ru, en")
        self._engine = engine
        self._templates = Templates(templates_dir)
        self._language = language
        self._clock = clock
        self._ping_lock = threading.Lock()
        self._pinged_at: float | None = None

    @property
    def engine(self) -> str:
        """`pdfkit` or `weasyprint`: part of the rendition key."""
        return self._engine.name

    def template_for(self, task: Task) -> str:
        """Template name, version of the template set and language: part of the rendition key."""
        name = self._templates.name_for(task.subject.type)
        return f"{name}#{self._templates.fingerprint}.{self._language}"

    def render_html(self, task: Task) -> str:
        """The hardened HTML the engine gets for `task` (for `render-pdf --html` and tests).

        Tables past the core's bounds show their first rows and a note saying how many there
        are (gateway.domain.documents.bounded).
        """
        bound = bounded(task)
        context = document_context(
            bound.task,
            language=self._language,
            generated_at=self._clock(),
            engine=self._engine.name,
            engine_version=self._engine.describe(),
            cuts=bound.cuts,
        )
        html = self._templates.render(self._templates.name_for(task.subject.type), context)
        return neutralise(self._within_bound(html))

    def render(self, task: Task) -> bytes:
        """The task's subject as PDF bytes; RenderFailed for a page past MAX_HTML_BYTES."""
        return self._engine.to_pdf(self._within_bound(self.render_html(task)))

    def _within_bound(self, html: str) -> str:
        size = len(html.encode("utf-8"))
        if size > MAX_HTML_BYTES:
            raise RenderFailed(
                self.engine,
                f"the page is {size / 1024**2:.1f} MB of HTML, over the "
                f"{MAX_HTML_BYTES // 1024**2} MB bound (check the installation's templates)",
            )
        return html

    def ping(self) -> None:
        """Render a small document through the templates and the engine.

        A success is trusted for five minutes, so frequent readiness probes stay cheap.
        """
        with self._ping_lock:
            if (
                self._pinged_at is not None
                and time.monotonic() - self._pinged_at < PING_VALID_SECONDS
            ):
                return
            pdf = self.render(SAMPLE_TASK)
            if not pdf.startswith(b"%PDF-"):
                raise RenderFailed(self.engine, "the sample document is not a PDF")
            self._pinged_at = time.monotonic()


SAMPLE_TASK: Final = Task(
    id="00000000-0000-0000-0000-000000000000",
    version="ping",
    number="0",
    created_at=datetime(2026, 1, 1, 9, 0, tzinfo=UTC),
    due_at=None,
    importance=Importance.NORMAL,
    state=TaskState.PENDING,
    title="Проверка",
    performer=Person("ping", "Проверка"),
    initiator=Person("ping", "Проверка"),
    stage=Stage("Проверка", 1, 1),
    subject=Subject(
        type="Document_Проверка",
        id="ping",
        presentation="Проверка движка PDF",
        fields=(Field("Номер", "0"),),
        tables=(Table("Строки", ("№",), (("1",),)),),
    ),
    allowed_decisions=(Decision.APPROVE,),
)
