"""What the flow's use cases work with: the ports and the few settings they read."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from gateway.errors import GatewayError
from gateway.ports import DocumentCache, Messenger, Metrics, NoMetrics, OneC, PdfRenderer, Store
from gateway.settings import MAX_CARD_FIELDS, WorkHours
from gateway.texts import Texts

log = logging.getLogger(__name__)


def local_now() -> datetime:
    """The server's wall clock with its zone (reminders follow the server's working hours)."""
    return datetime.now().astimezone()


@dataclass
class FlowContext:
    """Ports plus settings for the flow; one per worker process, shared by its threads."""

    onec: OneC
    messenger: Messenger
    store: Store
    renderer: PdfRenderer
    documents: DocumentCache
    texts: Texts
    secret: str
    prefers_print_form: bool = False
    remind_after_hours: float = 24.0
    work_hours: WorkHours = field(default_factory=lambda: WorkHours(9, 19))
    now: Callable[[], datetime] = local_now
    wake_outbox: Callable[[], None] = lambda: None
    metrics: Metrics = field(default_factory=NoMetrics)
    # TELEGRAM_SEND_PDF and TELEGRAM_CARD_FIELDS: how much of the document goes to Telegram.
    send_pdf: bool = True
    card_fields: int = MAX_CARD_FIELDS

    def alert_admins(self, html: str) -> None:
        """Send `html` to every admin; an admin who cannot be reached is skipped."""
        for link in self.store.all_links():
            if not link.is_admin:
                continue
            try:
                self.messenger.send_text(link.chat_id, html)
            except GatewayError as exc:
                log.warning("admin alert to chat %s failed: %s", link.chat_id, exc)
