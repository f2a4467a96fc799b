"""Ports: what the core needs from the outside world, as `typing.Protocol`s.

Adapters implement them structurally (no inheritance); the composition root picks which.
Every method may raise only errors from `gateway.errors`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gateway.domain import Decision, DecisionRequest, MessageRef, OneCUser, Task, UserLink


class Pingable(Protocol):
    """Anything the readiness check and `check` can probe; raises a GatewayError when down."""

    def ping(self) -> None: ...


class TaskSource(Pingable, Protocol):
    """1C as the source of approval tasks and of the users who decide them."""

    def pending_tasks(self) -> Iterable[Task]:
        """Every pending approval task, in a stable order."""
        ...

    def get_task(self, task_id: str) -> Task:
        """One task in whatever state it is; NotFound if 1C has no such task."""
        ...

    def find_users_by_phone(self, phone: str) -> Sequence[OneCUser]:
        """Valid 1C users with this international number ("+" and digits), each with its card
        phones read by `gateway.phones.normalize_phone`."""
        ...

    def print_form(self, task: Task) -> bytes | None:
        """1C's own print form of the task's subject as PDF, or None where 1C has none."""
        ...

    def group_members(self, name: str) -> frozenset[str]:
        """1C user ids in the users group `name` (`Catalog_ГруппыПользователей`, its `Состав`);
        NotFound if 1C has no such group."""
        ...


class DecisionSink(Protocol):
    """1C as the place decisions are written to."""

    def submit_decision(self, request: DecisionRequest) -> Task:
        """Apply the decision once (retries with the same idempotency key change nothing).

        Returns the task's new state; AlreadyCompleted if it was done before, NotPerformer if
        the user may not decide it.
        """
        ...


class OneC(TaskSource, DecisionSink, Protocol):
    """A 1C connector: OData, the HTTP service or the SOAP web service."""


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


@dataclass(frozen=True, slots=True)
class Button:
    """An inline keyboard button: visible text and signed callback data (≤ 64 bytes)."""

    text: str
    callback_data: str


Keyboard = Sequence[Sequence[Button]]


@dataclass(frozen=True, slots=True)
class Attachment:
    """A document to send: bytes for a first upload, or the Bot API file id of an earlier one."""

    filename: str
    content: bytes | None = None
    file_id: str | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    """What the messenger reports back for a sent message."""

    ref: MessageRef
    file_id: str | None = None


@dataclass(frozen=True, slots=True)
class ContactRequest:
    """A reply keyboard with one button that shares the user's own phone number."""

    button_text: str


@dataclass(frozen=True, slots=True)
class ForceReply:
    """Ask the user's app to open a reply to this message (for a return reason)."""

    placeholder: str = ""


@dataclass(frozen=True, slots=True)
class RemoveKeyboard:
    """Remove a reply keyboard shown earlier (after the phone was shared)."""


Markup = Keyboard | ContactRequest | ForceReply | RemoveKeyboard


class Messenger(Pingable, Protocol):
    """Telegram as the core sees it: chats identified by id, HTML texts, keyboards.

    Raises RecipientBlocked when the user blocked the bot, RateLimited on flood control,
    UpstreamUnavailable when Telegram cannot be reached.
    """

    def send_text(
        self, chat_id: int, html: str, markup: Markup | None = None, reply_to: int | None = None
    ) -> Sent: ...

    def send_document(
        self, chat_id: int, document: Attachment, caption_html: str, markup: Markup | None = None
    ) -> Sent: ...

    def edit(
        self, ref: MessageRef, html: str, *, is_caption: bool, keyboard: Keyboard = ()
    ) -> None:
        """Replace a message's text (or caption) and keyboard; an empty keyboard removes it.

        An edit that changes nothing is not an error; NotFound if the message is gone.
        """
        ...

    def answer_callback(self, callback_id: str, text: str = "", alert: bool = False) -> None:
        """Answer a button press (stops the spinner); `alert` shows a dialog instead of a toast."""
        ...

    def set_commands(self, commands: Sequence[tuple[str, str]]) -> None:
        """The bot's command menu: (command, description) pairs."""
        ...


class LinkStore(Protocol):
    """Links between Telegram users and 1C users."""

    def save_link(self, link: UserLink) -> None:
        """Store `link` as the only link of its Telegram user and of its 1C user: any other
        Telegram user's link to the same 1C user goes, in the same step."""
        ...

    def get_link(self, telegram_user_id: int) -> UserLink | None: ...

    def links_for_onec_user(self, onec_user_id: str) -> list[UserLink]: ...

    def delete_link(self, telegram_user_id: int) -> None: ...

    def all_links(self) -> list[UserLink]:
        """Every linked user (for the periodic check that phones still match in 1C)."""
        ...


class MessageStore(Protocol):
    """Which Telegram messages show which task."""

    def remember_message(self, ref: MessageRef, task_id: str) -> None: ...

    def task_for_message(self, ref: MessageRef) -> str | None: ...

    def messages_for_task(self, task_id: str) -> list[MessageRef]: ...


@dataclass(frozen=True, slots=True)
class Delivery:
    """A task card sent to one chat: which message, which task version it shows, and when."""

    task_id: str
    chat_id: int
    message_id: int
    version: str
    is_caption: bool
    delivered_at: datetime
    text: str = ""  # the card's HTML as sent, so outcome edits keep it without asking 1C
    reminded_at: datetime | None = None
    deciding: str = ""  # a decision from this card is in the outbox: the outbox closes the card
    subject_version: str = ""  # the document version the card shows (a decision must match it)

    @property
    def ref(self) -> MessageRef:
        """The card's message."""
        return MessageRef(self.chat_id, self.message_id)


class DeliveryStore(Protocol):
    """Cards sent per (task, chat): the sync loop's memory of what approvers were shown."""

    def claim_delivery(self, task_id: str, chat_id: int, version: str) -> bool:
        """True for exactly one caller per (task, chat, version): that caller sends the card."""
        ...

    def save_delivery(self, delivery: Delivery) -> None: ...

    def get_delivery(self, task_id: str, chat_id: int) -> Delivery | None: ...

    def deliveries_for_task(self, task_id: str) -> list[Delivery]: ...

    def close_delivery(self, task_id: str, chat_id: int) -> None:
        """Forget the card (the task is done or moved on); its buttons are checked against 1C."""
        ...

    def tracked_tasks(self) -> set[str]:
        """Ids of tasks with at least one open card."""
        ...


@dataclass(frozen=True, slots=True)
class Prompt:
    """A return waiting for its reason: the ForceReply message asking for it and the press."""

    chat_id: int
    prompt_message_id: int
    task_id: str
    decision: Decision
    version: str
    card_message_id: int
    created_at: datetime
    subject_version: str = ""


class PromptStore(Protocol):
    """Reasons being typed, one per chat (a new press replaces the previous prompt)."""

    def save_prompt(self, prompt: Prompt) -> None: ...

    def get_prompt(self, chat_id: int) -> Prompt | None: ...

    def delete_prompt(self, chat_id: int) -> None: ...


class AdminGroupStore(Protocol):
    """The members of ONEC_ADMINS_GROUP as the last sync pass read them, for every process."""

    def save_group_admins(self, onec_user_ids: frozenset[str]) -> None: ...

    def group_admins(self) -> frozenset[str]: ...


class InviteStore(Protocol):
    """One-time admin invitation codes."""

    def save_invite(self, code: str, ttl_seconds: int) -> None: ...

    def take_invite(self, code: str) -> bool:
        """True once for a valid code; the code is spent."""
        ...


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A decision on its way to 1C, stored before the approver is told anything."""

    request: DecisionRequest
    subject: str
    is_caption: bool
    attempts: int = 0
    next_at: float = 0.0
    last_error: str = ""

    @property
    def id(self) -> str:
        """The idempotency key: one entry per approver's press."""
        return self.request.idempotency_key


class OutboxStore(Protocol):
    """The durable decision outbox: entries survive restarts until 1C has them.

    Each method is one atomic step. A worker attempts an entry under a lease (an owner token
    that expires, so a dead worker's entry is taken over). A worker may change the entry while
    it holds the lease, or after it expired if nobody took the entry over meanwhile; otherwise
    the change is refused (False) and the worker that holds the entry settles it.
    """

    def enqueue(self, entry: OutboxEntry) -> bool:
        """Store the entry, due at `next_at`, in one step; False if one with the same id is
        already there (a repeated press)."""
        ...

    def due(self, now: float, limit: int) -> list[OutboxEntry]:
        """Entries whose next attempt is due, oldest first."""
        ...

    def claim(self, entry_id: str, now: float, lease_seconds: float) -> str | None:
        """The lease token if this worker may attempt the entry now: it is still due by `now`
        and no other worker holds a live lease. None otherwise."""
        ...

    def reschedule(
        self, entry_id: str, lease: str, attempts: int, next_at: float, error: str
    ) -> bool:
        """Try again at `next_at`, releasing the lease; False (nothing changed) if refused."""
        ...

    def complete(self, entry_id: str, lease: str) -> bool:
        """1C has the decision: forget the entry; False (nothing changed) if refused."""
        ...

    def dead_letter(self, entry_id: str, lease: str, error: str) -> bool:
        """Give up on the entry; False (nothing changed) if refused."""
        ...

    def release(self, entry_id: str, lease: str) -> bool:
        """Give the lease back and leave the entry as it is; False if refused."""
        ...

    def retry_now(self, now: float) -> int:
        """Make every entry waiting for a later attempt due now (1C is back); how many."""
        ...

    def outbox_depth(self) -> int: ...

    def dead_letter_count(self) -> int: ...

    def get_entry(self, entry_id: str) -> OutboxEntry | None:
        """One entry by id, waiting or given up on; None if there is none."""
        ...

    def dead(self, limit: int) -> list[OutboxEntry]:
        """Entries given up on, oldest first (for the admin commands)."""
        ...

    def retry_entry(self, entry_id: str, now: float) -> bool:
        """Make one entry due now, a dead one too, with its attempts counted afresh; False if
        there is no such entry or a worker is sending it right now."""
        ...

    def drop_entry(self, entry_id: str) -> bool:
        """Forget the entry: that decision never reaches 1C. False if there is no such entry
        or a worker is sending it right now."""
        ...


class StatusStore(Protocol):
    """Shared facts about the gateway's health (last sync, 1C outage), read by /status."""

    def set_status(self, **fields: str) -> None:
        """Set these fields (an empty string clears one)."""
        ...

    def get_status(self) -> dict[str, str]: ...


class Coordination(Protocol):
    """What several worker and web processes agree on through Redis."""

    def acquire_leadership(self, role: str, owner: str, ttl_seconds: float) -> bool:
        """Take or renew the `role` lock for `owner`; False while another owner holds it."""
        ...

    def release_leadership(self, role: str, owner: str) -> None:
        """Give the lock up, if `owner` still holds it."""
        ...

    def leader(self, role: str) -> str | None:
        """Who holds the `role` lock now."""
        ...

    def first_use(self, token: str, ttl_seconds: int) -> bool:
        """True the first time `token` is seen within `ttl_seconds` (replays are refused)."""
        ...

    def request_sync(self, task_ids: Sequence[str]) -> None:
        """Ask the sync leader for an immediate pass over these tasks (a push from 1C)."""
        ...

    def wait_sync_request(self, timeout_seconds: float) -> list[str] | None:
        """Task ids asked for within the timeout (several requests merged), None if none came."""
        ...


class UpdateQueue(Protocol):
    """Telegram updates stored durably until a worker has handled them."""

    def push_update(self, update_id: int, payload: str) -> bool:
        """Queue an update (JSON); False if that update id was queued before (a redelivery)."""
        ...

    def take_updates(
        self, consumer: str, block_seconds: float, count: int
    ) -> list[tuple[str, str]]:
        """Up to `count` (entry id, payload) for this consumer: ones left unacknowledged (by a
        dead consumer, or after their handling failed) first, then new ones, waiting up to
        `block_seconds`. One taken too often without an ack is set aside as a dead update
        instead of being returned again."""
        ...

    def keep_updates(self, consumer: str, entry_ids: Sequence[str]) -> None:
        """`consumer` is still at these entries: nobody may take them over as stale yet."""
        ...

    def ack_update(self, entry_id: str) -> None:
        """The update was handled (or deliberately ignored): drop it."""
        ...

    def count_inbound(self, user_id: int, window_seconds: int) -> int:
        """Count one more update from `user_id`; how many came in the current window."""
        ...

    def dead_update_count(self) -> int:
        """Updates set aside because their handling kept failing (kept for the admins)."""
        ...

    def polling_offset(self) -> int | None: ...

    def set_polling_offset(self, offset: int) -> None: ...


class RateLimiter(Protocol):
    """Telegram's flood limits, shared by every process that sends."""

    def acquire(self, chat_id: int) -> float:
        """Seconds to wait before sending to `chat_id`; 0 means send now (a slot was taken,
        and the calling thread says `ended` when the send has its answer)."""
        ...

    def ended(self) -> None:
        """The send this thread was last let start has its answer, or failed."""
        ...

    def pause(self, seconds: float) -> None:
        """Everyone stops sending for `seconds` (Telegram answered 429 with retry_after), then
        sends slower for a while."""
        ...


class Store(
    Pingable,
    Coordination,
    UpdateQueue,
    StatusStore,
    LinkStore,
    MessageStore,
    DeliveryStore,
    PromptStore,
    InviteStore,
    AdminGroupStore,
    OutboxStore,
    Protocol,
):
    """The gateway's only state: Redis, every key under REDIS_PREFIX."""


class Metrics(Protocol):
    """Counters and timings for /metrics; the core calls it at the flow's points of interest.

    Adapter timings (1C, Telegram, PDF) are recorded by decorators around those ports, so the
    core only reports what it alone knows: a card relayed, a decision's outcome.
    """

    def task_relayed(self) -> None:
        """A task card was sent to an approver."""
        ...

    def decision(self, decision: str, outcome: str) -> None:
        """One attempt to write a decision to 1C ended with `outcome`."""
        ...

    def onec_request(self, operation: str, seconds: float) -> None: ...

    def telegram_request(self, method: str, seconds: float) -> None: ...

    def pdf_render(self, engine: str, seconds: float) -> None: ...


class NoMetrics:
    """The Metrics port that records nothing (the default where no metrics are wired)."""

    def task_relayed(self) -> None:
        """Record nothing."""

    def decision(self, decision: str, outcome: str) -> None:
        """Record nothing."""

    def onec_request(self, operation: str, seconds: float) -> None:
        """Record nothing."""

    def telegram_request(self, method: str, seconds: float) -> None:
        """Record nothing."""

    def pdf_render(self, engine: str, seconds: float) -> None:
        """Record nothing."""
