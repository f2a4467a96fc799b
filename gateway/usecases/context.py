"""What the flow's use cases work with: the ports and the few settings they read."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.domain.records import UserLink
from gateway.domain.tasks import OtherTasks, Task
from gateway.errors import GatewayError
from gateway.ports.documents import DocumentCache, PdfRenderer
from gateway.ports.messenger import Messenger
from gateway.ports.metrics import Metrics, NoMetrics
from gateway.ports.onec import OneC
from gateway.ports.storage import (
    AdminGroupStore,
    Coordination,
    DeliveryStore,
    InviteStore,
    LinkStore,
    MessageStore,
    OutboxStore,
    PromptStore,
    StatusStore,
    Store,
    UpdateQueue,
)
from gateway.presentation.texts import Texts
from gateway.settings import MAX_CARD_FIELDS, WorkHours

log = logging.getLogger(__name__)


def local_now() -> datetime:
    """The server's wall clock with its zone (reminders follow the server's working hours)."""
    return datetime.now().astimezone()


@dataclass
class FlowContext:
    """Ports plus settings for the flow; one per worker process, shared by its threads."""

    onec: OneC
    messenger: Messenger
    links: LinkStore
    messages: MessageStore
    deliveries: DeliveryStore
    prompts: PromptStore
    admins: AdminGroupStore
    invites: InviteStore
    outbox: OutboxStore
    status: StatusStore
    coordination: Coordination
    updates: UpdateQueue
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
    other_tasks: str = OtherTasks.NOTIFY.value  # ONEC_OTHER_TASKS: cards for non-approvals
    users_group: str = ""  # ONEC_USERS_GROUP: only its members may connect
    admins_group: str = ""  # ONEC_ADMINS_GROUP: its members are admins without an invite
    # Hides the settings' secrets in error texts that reach a chat or the stored status: an
    # error from 1C or a proxy may quote the request that carried them.
    mask: Callable[[str], str] = lambda text: text
    # TELEGRAM_SEND_PDF and TELEGRAM_CARD_FIELDS: how much of the document goes to Telegram.
    send_pdf: bool = True
    card_fields: int = MAX_CARD_FIELDS

    @classmethod
    def over(cls, store: Store, **rest: Any) -> FlowContext:
        """A context whose every storage port is `store` (Redis holds them all)."""
        return cls(
            links=store,
            messages=store,
            deliveries=store,
            prompts=store,
            admins=store,
            invites=store,
            outbox=store,
            status=store,
            coordination=store,
            updates=store,
            **rest,
        )

    def is_admin(self, link: UserLink, group_admins: frozenset[str] | None = None) -> bool:
        """True for an invited admin, or a member of ONEC_ADMINS_GROUP as last read from 1C."""
        if link.is_admin:
            return True
        if not self.admins_group:
            return False
        members = self.admins.group_admins() if group_admins is None else group_admins
        return link.onec_user_id in members

    def delivers(self, task: Task) -> bool:
        """True if approvers get a card of `task`: every approval, other tasks unless off."""
        return task.is_approval or self.other_tasks != OtherTasks.OFF

    def alert_admins(self, html: str) -> None:
        """Send `html` to every admin; an admin who cannot be reached is skipped."""
        group_admins = self.admins.group_admins() if self.admins_group else frozenset()
        for link in self.links.all_links():
            if not self.is_admin(link, group_admins):
                continue
            try:
                self.messenger.send_text(link.chat_id, html)
            except GatewayError as exc:
                log.warning("admin alert to chat %s failed: %s", link.chat_id, exc)
