"""What the flow's use cases work with: the ports and the few settings they read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.domain.infobases import Infobase
from gateway.domain.records import UserLink
from gateway.domain.tasks import OtherTasks, Task
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
from gateway.presentation.cards import MAX_CARD_FIELDS
from gateway.presentation.texts import Texts
from gateway.scheduling.deadline import Deadline, ThreadDeadline
from gateway.scheduling.relay import RelayPools
from gateway.settings import WorkHours
from gateway.usecases import alerts, cards_io


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
    base: Infobase = field(default_factory=Infobase)  # the infobase this context serves
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
    # The sync pass's threads: made once per context and started on first use; the worker
    # that owns the context shuts them down.
    pools: RelayPools = field(default_factory=RelayPools.threaded)
    # Runs the first write of a decision to 1C on a helper thread, so the outbox thread can
    # mark the card "passing to 1C" meanwhile when the write is slow.
    deadline: Deadline = field(default_factory=ThreadDeadline)

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

    # Callers that hold the whole context may keep asking it; use cases call the functions.

    def is_admin(self, link: UserLink, group_admins: frozenset[str] | None = None) -> bool:
        """See `gateway.usecases.alerts.is_admin`."""
        return alerts.is_admin(self, link, group_admins)

    def delivers(self, task: Task) -> bool:
        """See `gateway.usecases.cards_io.delivers`."""
        return cards_io.delivers(self, task)

    def alert_admins(self, html: str) -> None:
        """See `gateway.usecases.alerts.alert_admins`."""
        alerts.alert_admins(self, html)
