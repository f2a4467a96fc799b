"""Documents: the PDF renderer and the cache of rendered files and uploaded file ids."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from gateway.domain.tasks import Task
from gateway.ports.pingable import Pingable


class PdfEngine(StrEnum):
    """PDF_ENGINE's values; an engine's name is one of the last two (`auto` picks one)."""

    AUTO = "auto"
    PDFKIT = "pdfkit"  # wkhtmltopdf
    WEASYPRINT = "weasyprint"


class PdfRenderer(Pingable, Protocol):
    """Renders the document under approval as a PDF the approver reads on a phone."""

    @property
    def engine(self) -> str:
        """The engine's name, part of the cache key (`pdfkit`, `weasyprint`)."""
        ...

    def render(self, task: Task) -> bytes:
        """The task's subject as PDF bytes."""
        ...

    def template_for(self, task: Task) -> str:
        """A short, stable name of the template and its content version for `task`.

        Part of the rendition key, so an edited template makes a new rendition.
        """
        ...


class DocumentCache(Protocol):
    """Rendered PDFs and their Telegram file ids, by rendition key, so each is made once.

    The key names subject, version, template and engine; a new document version is a new key.
    """

    def get_pdf(self, key: str) -> bytes | None: ...

    def put_pdf(self, key: str, content: bytes) -> None: ...

    def get_file_id(self, key: str) -> str | None: ...

    def put_file_id(self, key: str, file_id: str) -> None: ...
