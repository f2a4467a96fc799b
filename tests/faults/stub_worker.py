"""`python -m tests.faults.stub_worker`: the real worker with a one-page stand-in PDF.

The fault suite kills workers at random while a thousand cards go out; rendering a thousand
distinct documents would take minutes and is measured by the benchmarks instead. Everything
else (1C connector, Redis, Telegram client, rate limiter, loops) is the production wiring.
"""

from __future__ import annotations

import sys

from gateway.bootstrap import build, load_settings
from gateway.domain.tasks import Task
from gateway.entrypoints.logs import configure_logging
from gateway.entrypoints.worker import Worker

# The smallest PDF readers accept: one empty page.
TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


class StubRenderer:
    """The PdfRenderer port answering the same tiny PDF for every task."""

    engine = "stub"

    def ping(self) -> None:
        """Always ready."""

    def template_for(self, task: Task) -> str:
        """One template for all."""
        return "stub"

    def render(self, task: Task) -> bytes:
        """The tiny PDF."""
        return TINY_PDF


def main() -> int:
    """Run the worker until SIGTERM (or SIGKILL, which is the point)."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format, settings.secret_values())
    gateway = build(settings, renderer=StubRenderer())
    try:
        Worker(gateway, long_poll_seconds=1).run()
    finally:
        gateway.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
