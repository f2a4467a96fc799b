"""PDF rendition of the document under approval: Jinja2 templates on a hardened engine.

`create_renderer(settings.pdf_engine, templates_dir=..., language=...)` gives the core's
PdfRenderer; see README.md in this folder for templates, hardening and engine differences.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from adapters.pdf.renderer import HtmlPdfRenderer, HtmlToPdf
from adapters.pdf.weasyprint_engine import WeasyPrintEngine
from adapters.pdf.wkhtmltopdf import WkhtmltopdfEngine
from gateway.errors import ConfigurationError
from gateway.ports.documents import PdfEngine
from gateway.settings import PDF_ENGINES

__all__ = [
    "HtmlPdfRenderer",
    "WeasyPrintEngine",
    "WkhtmltopdfEngine",
    "create_engine",
    "create_renderer",
    "resolve_engine",
]


def resolve_engine(name: str) -> str:
    """`pdfkit` or `weasyprint` for PDF_ENGINE `name`; `auto` is wkhtmltopdf when its binary
    is on PATH (the faster engine, and the one the templates were first made for), else
    WeasyPrint, which needs only Python packages and Pango."""
    if name == PdfEngine.AUTO:
        return PdfEngine.PDFKIT if shutil.which("wkhtmltopdf") else PdfEngine.WEASYPRINT
    return name


def create_engine(name: str) -> HtmlToPdf:
    """The engine PDF_ENGINE `name` gives (`auto`, `pdfkit` or `weasyprint`); nothing runs
    until the first PDF."""
    name = resolve_engine(name)
    if name == PdfEngine.PDFKIT:
        return WkhtmltopdfEngine()
    if name == PdfEngine.WEASYPRINT:
        # WeasyPrint (and Pango) load only in the engine's own processes: a missing Pango is a
        # ConfigurationError at the first PDF, which `check` and /readyz make through ping().
        return WeasyPrintEngine()
    raise ConfigurationError(f"PDF_ENGINE {name!r} is not one of: {', '.join(PDF_ENGINES)}")


def create_renderer(
    engine: str = "auto", *, templates_dir: Path | None = None, language: str = "ru"
) -> HtmlPdfRenderer:
    """The PdfRenderer for PDF_ENGINE, PDF_TEMPLATES_DIR and GATEWAY_LANGUAGE."""
    return HtmlPdfRenderer(create_engine(engine), templates_dir=templates_dir, language=language)
