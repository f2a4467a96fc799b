"""The `weasyprint` engine: WeasyPrint in-process, with a URL fetcher that fetches nothing.

WeasyPrint runs no JavaScript. Every resource it would load (images, style sheets, fonts by
URL, SVG references) goes through the fetcher, which answers only `data:` URLs and refuses
everything else: no file://, no http(s)://, no redirects. Fonts come from fontconfig (DejaVu
Sans from fonts-dejavu-core), never by URL. Page numbers come from CSS `@page` margin boxes.

Importing this module loads Pango through ctypes; `adapters.pdf.create_renderer` imports it only
when this engine is chosen, and reports a missing Pango as a ConfigurationError.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import weasyprint
from weasyprint.urls import URLFetcher, URLFetcherResponse

from gateway.errors import RenderFailed

NAME: Final = "weasyprint"

# WeasyPrint logs each refused URL and unsupported CSS property at WARNING; that is expected.
logging.getLogger("weasyprint").setLevel(logging.ERROR)


class RefusedFetch(ValueError):
    """WeasyPrint asked for a URL that is not a `data:` URL."""


class DataOnlyFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no types
    """Answers `data:` URLs and refuses every other URL, counting what it refused."""

    def __init__(self) -> None:
        super().__init__(timeout=1, allowed_protocols={"data"}, allow_redirects=False)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if not url.strip().lower().startswith("data:"):
            self.refused.append(url)
            raise RefusedFetch(f"fetching {url!r} is not allowed")
        response: URLFetcherResponse = super().fetch(url, headers)
        return response


class WeasyPrintEngine:
    """HTML → PDF with WeasyPrint; a fresh fetcher per document."""

    name: Final = NAME
    page_numbers: Final = True

    def __init__(self) -> None:
        self.last_refused: list[str] = []

    def describe(self) -> str:
        """`WeasyPrint 70.0`, for the document's footer."""
        return f"WeasyPrint {weasyprint.__version__}"

    def to_pdf(self, html: str) -> bytes:
        """The PDF of `html` (already neutralised); RenderFailed when the engine fails."""
        fetcher = DataOnlyFetcher()
        try:
            # No base_url: a relative URL resolves to nothing instead of a local path.
            pdf = weasyprint.HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()
        except Exception as exc:  # WeasyPrint raises anything from its parsers and Pango.
            raise RenderFailed(NAME, f"{type(exc).__name__}: {exc}") from exc
        finally:
            self.last_refused = fetcher.refused
        if not isinstance(pdf, bytes):
            raise RenderFailed(NAME, "WeasyPrint returned no PDF")
        return pdf
