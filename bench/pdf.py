"""(d) PDF: milliseconds per document for each engine, side by side, and how often the relay
rendered and uploaded (the rendition cache and Telegram file_id reuse at work).

Tasks come from the 1C emulator through the http connector, one per document; each engine
renders one document first (start-up, fonts) outside the figures.
"""

from __future__ import annotations

import time
from typing import Any

from adapters.pdf import create_renderer
from bench import harness
from bench.sizes import Sizes
from bench.stats import summary_ms
from gateway.bootstrap import build_onec

ENGINES = ("pdfkit", "weasyprint")


def engines(sizes: Sizes) -> dict[str, Any]:
    """p50/p95 milliseconds per document for each engine, on the same documents."""
    results: dict[str, Any] = {}
    with (
        harness.redis_prefix() as prefix,
        harness.onec_only() as onec,
        harness.emulators_telegram_only() as telegram,
    ):
        onec.client.bulk_seed(sizes.pdf_documents + 1)
        config = harness.settings(telegram, onec, prefix, ONEC_CONNECTOR="http")
        tasks = list(build_onec(config).pending_tasks())[-(sizes.pdf_documents + 1) :]
        for engine in ENGINES:
            renderer = create_renderer(engine)
            renderer.render(tasks[0])  # start-up and font loading, not a document's cost
            durations = []
            for task in tasks[1:]:
                started = time.perf_counter()
                renderer.render(task)
                durations.append(time.perf_counter() - started)
            results[engine] = summary_ms(durations)
    return results


def per_thousand(relay: dict[str, Any]) -> dict[str, Any]:
    """Renderings and uploads per 1,000 deliveries and per document version, from a relay."""
    delivered = max(1, int(relay.get("delivered", 0)))
    documents = max(1, int(relay.get("documents", 0)))
    renderings = int(relay.get("renderings", 0)) + int(relay.get("print_forms_fetched", 0))
    uploads = int(relay.get("uploads", 0))
    return {
        "deliveries": delivered,
        "documents": documents,
        "renderings_per_1000": round(renderings * 1000 / delivered, 1),
        "uploads_per_1000": round(uploads * 1000 / delivered, 1),
        "renderings_per_document": round(renderings / documents, 2),
        "uploads_per_document": round(uploads / documents, 2),
        "file_id_reuses": relay.get("file_id_reuses", 0),
    }
