"""Typed in-memory implementations of the ports in `gateway.ports`, shared by the tests.

Each fake keeps the semantics its real adapter promises (the protocol docstrings and
`adapters/redis_store`), records what the core asked of it, and can be told to fail. A check at
the bottom of the module makes mypy prove that each fake satisfies its protocol.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from adapters.redis_store.coordination import (
    DEAD_UPDATES_KEPT,
    MAX_UPDATE_DELIVERIES,
    SEEN_UPDATE_SECONDS,
    STALE_UPDATE_MS,
)
from adapters.redis_store.flow import CLAIM_SECONDS, PROMPT_SECONDS
from gateway.domain.records import (
    DecisionRequest,
    Delivery,
    MessageRef,
    OutboxEntry,
    Prompt,
    UserLink,
)
from gateway.domain.tasks import OneCUser, Result, Task, TaskState
from gateway.errors import (
    AlreadyCompleted,
    GatewayError,
    InvalidRequest,
    NotFound,
    NotPerformer,
    RecipientBlocked,
    StaleDecision,
    UpstreamUnavailable,
)
from gateway.ports.documents import DocumentCache, PdfRenderer
from gateway.ports.messenger import Attachment, Keyboard, Markup, Messenger, Sent
from gateway.ports.onec import OneC
from gateway.ports.storage import Store
from gateway.presentation.texts import Texts
from gateway.usecases.context import FlowContext

MSK: Final = timezone(timedelta(hours=3))
NOW: Final = datetime(2026, 11, 27, 10, 0, tzinfo=MSK)
"""The fixed moment fakes start at: a Friday morning in Moscow, inside working hours."""
SECRET: Final = "unit-test-secret-0123456789"
PDF: Final = b"%PDF-1.7 rendered\n%%EOF"

STORAGE_PORTS: Final = (
    "links",
    "messages",
    "deliveries",
    "prompts",
    "admins",
    "invites",
    "outbox",
    "status",
    "coordination",
    "updates",
)
"""FlowContext's attributes that `FlowContext.over` fills with one store."""


class ManualClock:
    """A clock that moves only when told: `FlowContext.now` (call it) and a store's `time`."""

    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        """The current moment (what `FlowContext.now` returns)."""
        return self.now

    def time(self) -> float:
        """The current moment in unix seconds (what `time.time` would say)."""
        return self.now.timestamp()

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move on by `delta` or by timedelta keywords (`minutes=5`); the new moment."""
        self.now += delta if delta is not None else timedelta(**parts)
        return self.now


# --- storage ------------------------------------------------------------------------------------


@dataclass
class _Lease:
    token: str
    until: float


@dataclass
class _Pending:
    """An update handed to a consumer and not acknowledged yet (Redis's pending entry)."""

    consumer: str
    delivered_at: float
    deliveries: int


class InMemoryStore:
    """Every storage port (`Store`) in dicts, with the Redis store's semantics.

    Expiring things (card claims, prompts, invites, leader locks, replay tokens, outbox leases)
    expire by `clock`, unix seconds (`time.time` by default; pass `ManualClock().time` to step).
    Set `unavailable` to make `ping` raise it. Blocking waits (`wait_sync_request`,
    `take_updates`) wait in real time on a condition, as Redis would block.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.unavailable: GatewayError | None = None
        self._changed = threading.Condition()
        self._links: dict[int, UserLink] = {}
        self._messages: dict[MessageRef, str] = {}
        self._cards: dict[tuple[str, int], Delivery] = {}
        self._claims: dict[tuple[str, int], tuple[str, float]] = {}
        self._prompts: dict[int, tuple[Prompt, float]] = {}
        self._group_admins: frozenset[str] = frozenset()
        self._invites: dict[str, float] = {}
        self._entries: dict[str, OutboxEntry] = {}
        self._due: dict[str, float] = {}
        self._dead: dict[str, float] = {}
        self._leases: dict[str, _Lease] = {}
        self._status: dict[str, str] = {}
        self._leaders: dict[str, tuple[str, float]] = {}
        self._seen: dict[str, float] = {}
        self._sync_requests: list[str] = []
        self._update_ids = itertools.count(1)
        self._stream: dict[str, tuple[int, str]] = {}
        self._pending: dict[str, _Pending] = {}
        self._dead_updates: list[dict[str, Any]] = []
        self._inbound: dict[tuple[int, int], int] = {}
        self._offset: int | None = None

    def ping(self) -> None:
        """Raise `unavailable` if set."""
        if self.unavailable is not None:
            raise self.unavailable

    def _live(self, until: float) -> bool:
        return until > self.clock()

    # --- links ----------------------------------------------------------------------------------

    def save_link(self, link: UserLink) -> None:
        """Store `link`; any other Telegram user's link to the same 1C user goes."""
        self._links = {
            tg: old
            for tg, old in self._links.items()
            if old.onec_user_id != link.onec_user_id or tg == link.telegram_user_id
        }
        self._links[link.telegram_user_id] = link

    def get_link(self, telegram_user_id: int) -> UserLink | None:
        """The link of this Telegram user, or None."""
        return self._links.get(telegram_user_id)

    def links_for_onec_user(self, onec_user_id: str) -> list[UserLink]:
        """The Telegram user linked to this 1C user (a list of at most one)."""
        return [link for link in self.all_links() if link.onec_user_id == onec_user_id]

    def delete_link(self, telegram_user_id: int) -> None:
        """Unlink this Telegram user (no error if it was not linked)."""
        self._links.pop(telegram_user_id, None)

    def all_links(self) -> list[UserLink]:
        """Every link, by Telegram user id."""
        return [self._links[tg] for tg in sorted(self._links)]

    # --- messages -------------------------------------------------------------------------------

    def remember_message(self, ref: MessageRef, task_id: str) -> None:
        """Record that `ref` shows `task_id`."""
        self._messages[ref] = task_id

    def task_for_message(self, ref: MessageRef) -> str | None:
        """The task shown by `ref`, if the gateway sent it."""
        return self._messages.get(ref)

    def messages_for_task(self, task_id: str) -> list[MessageRef]:
        """Every message showing the task, in chat/message order."""
        refs = [ref for ref, shown in self._messages.items() if shown == task_id]
        return sorted(refs, key=lambda r: (r.chat_id, r.message_id))

    # --- cards ----------------------------------------------------------------------------------

    def claim_delivery(self, task_id: str, chat_id: int, version: str) -> bool:
        """True for the one caller that should send this (task, chat, version) card; a claim
        lasts CLAIM_SECONDS unless the card is saved or closed first."""
        card = self._cards.get((task_id, chat_id))
        if card is not None and card.version == version:
            return False
        claim = self._claims.get((task_id, chat_id))
        if claim is not None and self._live(claim[1]):
            return False
        self._claims[(task_id, chat_id)] = (version, self.clock() + CLAIM_SECONDS)
        return True

    def save_delivery(self, delivery: Delivery) -> None:
        """Store the card and release its claim."""
        self._cards[(delivery.task_id, delivery.chat_id)] = delivery
        self._claims.pop((delivery.task_id, delivery.chat_id), None)

    def get_delivery(self, task_id: str, chat_id: int) -> Delivery | None:
        """The open card of the task in this chat, if any."""
        return self._cards.get((task_id, chat_id))

    def deliveries_for_task(self, task_id: str) -> list[Delivery]:
        """Every open card of the task, by chat id."""
        return [self._cards[key] for key in sorted(self._cards) if key[0] == task_id]

    def close_delivery(self, task_id: str, chat_id: int) -> None:
        """Forget the card and its claim."""
        self._cards.pop((task_id, chat_id), None)
        self._claims.pop((task_id, chat_id), None)

    def tracked_tasks(self) -> set[str]:
        """Ids of tasks with an open card."""
        return {task_id for task_id, _ in self._cards}

    # --- prompts --------------------------------------------------------------------------------

    def save_prompt(self, prompt: Prompt) -> None:
        """The chat's reason prompt, replacing an earlier one; it expires after PROMPT_SECONDS."""
        self._prompts[prompt.chat_id] = (prompt, self.clock() + PROMPT_SECONDS)

    def get_prompt(self, chat_id: int) -> Prompt | None:
        """The reason prompt open in this chat."""
        held = self._prompts.get(chat_id)
        return held[0] if held is not None and self._live(held[1]) else None

    def delete_prompt(self, chat_id: int) -> None:
        """Close the chat's reason prompt."""
        self._prompts.pop(chat_id, None)

    # --- admins ---------------------------------------------------------------------------------

    def save_group_admins(self, onec_user_ids: frozenset[str]) -> None:
        """Replace the members of the admins group."""
        self._group_admins = frozenset(onec_user_ids)

    def group_admins(self) -> frozenset[str]:
        """The members of the admins group as last saved."""
        return self._group_admins

    def save_invite(self, code: str, ttl_seconds: int) -> None:
        """A one-time code valid for `ttl_seconds`."""
        self._invites[code] = self.clock() + ttl_seconds

    def take_invite(self, code: str) -> bool:
        """True once for a code that has not expired."""
        until = self._invites.pop(code, None)
        return until is not None and self._live(until)

    # --- outbox ---------------------------------------------------------------------------------

    def _holder(self, entry_id: str) -> str | None:
        lease = self._leases.get(entry_id)
        if lease is None or not self._live(lease.until):
            self._leases.pop(entry_id, None)
            return None
        return lease.token

    def _may_settle(self, entry_id: str, lease: str) -> bool:
        """The lease's holder, or, its lease expired, a worker whose entry is still due and
        unclaimed (as the Redis scripts' owner check)."""
        holder = self._holder(entry_id)
        if holder == lease:
            return True
        return holder is None and entry_id in self._due

    def _by_score(self, scores: dict[str, float]) -> list[str]:
        return [i for i, _ in sorted(scores.items(), key=lambda item: (item[1], item[0]))]

    def enqueue(self, entry: OutboxEntry) -> bool:
        """Store the entry, due at `next_at`; False if it is there already."""
        if entry.id in self._entries and (entry.id in self._due or entry.id in self._dead):
            return False
        self._entries[entry.id] = entry
        self._due[entry.id] = entry.next_at
        return True

    def get_entry(self, entry_id: str) -> OutboxEntry | None:
        """One entry by id, due or dead; `next_at` is its due time (0 when dead)."""
        entry = self._entries.get(entry_id)
        if entry is None:
            return None
        return replace(entry, next_at=self._due.get(entry_id, 0.0))

    def due(self, now: float, limit: int) -> list[OutboxEntry]:
        """Entries due by `now`, earliest first."""
        ids = [i for i in self._by_score(self._due) if self._due[i] <= now][:limit]
        return [e for e in (self.get_entry(i) for i in ids) if e is not None]

    def claim(self, entry_id: str, now: float, lease_seconds: float) -> str | None:
        """A lease token if the entry is due by `now` and nobody holds a live lease."""
        score = self._due.get(entry_id)
        if score is None or score > now or self._holder(entry_id) is not None:
            return None
        token = uuid.uuid4().hex
        self._leases[entry_id] = _Lease(token, self.clock() + max(0.001, lease_seconds))
        return token

    def reschedule(
        self, entry_id: str, lease: str, attempts: int, next_at: float, error: str
    ) -> bool:
        """Try again at `next_at`, releasing the lease; False if refused."""
        if not self._may_settle(entry_id, lease) or entry_id not in self._entries:
            return False
        entry = self._entries[entry_id]
        self._entries[entry_id] = replace(entry, attempts=attempts, last_error=error)
        self._due[entry_id] = next_at
        self._leases.pop(entry_id, None)
        return True

    def complete(self, entry_id: str, lease: str) -> bool:
        """Forget the entry; False if refused."""
        if not self._may_settle(entry_id, lease):
            return False
        self._entries.pop(entry_id, None)
        self._due.pop(entry_id, None)
        self._leases.pop(entry_id, None)
        return True

    def dead_letter(self, entry_id: str, lease: str, error: str) -> bool:
        """Give up on the entry (kept among the dead); False if refused."""
        if not self._may_settle(entry_id, lease) or entry_id not in self._entries:
            return False
        self._entries[entry_id] = replace(self._entries[entry_id], last_error=error)
        self._due.pop(entry_id, None)
        self._dead[entry_id] = self.clock()
        self._leases.pop(entry_id, None)
        return True

    def release(self, entry_id: str, lease: str) -> bool:
        """Give the lease back, the entry unchanged; False if refused."""
        if not self._may_settle(entry_id, lease):
            return False
        self._leases.pop(entry_id, None)
        return True

    def retry_now(self, now: float) -> int:
        """Every entry waiting for a later attempt becomes due now, in the order it waited."""
        later = [i for i in self._by_score(self._due) if self._due[i] > now]
        for position, entry_id in enumerate(later, start=1):
            self._due[entry_id] = now - (len(later) - position + 1) / 10000
        return len(later)

    def outbox_depth(self) -> int:
        """Decisions waiting to reach 1C."""
        return len(self._due)

    def dead_letter_count(self) -> int:
        """Decisions given up on."""
        return len(self._dead)

    def dead(self, limit: int) -> list[OutboxEntry]:
        """Entries given up on, oldest first."""
        ids = self._by_score(self._dead)[: max(limit, 1)]
        return [e for e in (self.get_entry(i) for i in ids) if e is not None]

    def retry_entry(self, entry_id: str, now: float) -> bool:
        """Make the entry (waiting or dead) due now, attempts afresh; False if absent or held."""
        if entry_id not in self._entries or self._holder(entry_id) is not None:
            return False
        if entry_id not in self._due and entry_id not in self._dead:
            return False
        self._entries[entry_id] = replace(self._entries[entry_id], attempts=0)
        self._dead.pop(entry_id, None)
        self._due[entry_id] = now
        return True

    def drop_entry(self, entry_id: str) -> bool:
        """Forget the entry; False if absent or held by a worker."""
        if entry_id not in self._entries or self._holder(entry_id) is not None:
            return False
        self._entries.pop(entry_id)
        self._due.pop(entry_id, None)
        self._dead.pop(entry_id, None)
        return True

    # --- status ---------------------------------------------------------------------------------

    def set_status(self, **fields: str) -> None:
        """Set status fields; an empty value removes the field."""
        for name, value in fields.items():
            if value:
                self._status[name] = value
            else:
                self._status.pop(name, None)

    def get_status(self) -> dict[str, str]:
        """Every status field."""
        return dict(self._status)

    # --- coordination ---------------------------------------------------------------------------

    def acquire_leadership(self, role: str, owner: str, ttl_seconds: float) -> bool:
        """Take the lock when free (or expired), renew it when `owner` holds it."""
        held = self._leaders.get(role)
        if held is not None and self._live(held[1]) and held[0] != owner:
            return False
        self._leaders[role] = (owner, self.clock() + ttl_seconds)
        return True

    def release_leadership(self, role: str, owner: str) -> None:
        """Release the lock if `owner` still holds it."""
        if self.leader(role) == owner:
            del self._leaders[role]

    def leader(self, role: str) -> str | None:
        """Who holds the lock now."""
        held = self._leaders.get(role)
        return held[0] if held is not None and self._live(held[1]) else None

    def first_use(self, token: str, ttl_seconds: int) -> bool:
        """True only the first time within the TTL."""
        until = self._seen.get(token)
        if until is not None and self._live(until):
            return False
        self._seen[token] = self.clock() + ttl_seconds
        return True

    def request_sync(self, task_ids: Sequence[str]) -> None:
        """Queue task ids for the sync leader ("*" when none: a full pass)."""
        with self._changed:
            self._sync_requests.extend(list(task_ids) or ["*"])
            self._changed.notify_all()

    def wait_sync_request(self, timeout_seconds: float) -> list[str] | None:
        """Every task id asked for so far, once each, waiting up to the timeout for one."""
        with self._changed:
            if not self._changed.wait_for(lambda: bool(self._sync_requests), timeout_seconds):
                return None
            ids, self._sync_requests = self._sync_requests, []
        return list(dict.fromkeys(ids))

    # --- updates --------------------------------------------------------------------------------

    def push_update(self, update_id: int, payload: str) -> bool:
        """Queue the update once per update id (within SEEN_UPDATE_SECONDS)."""
        seen = f"update:{update_id}"
        with self._changed:
            until = self._seen.get(seen)
            if until is not None and self._live(until):
                return False
            self._seen[seen] = self.clock() + SEEN_UPDATE_SECONDS
            self._stream[f"{next(self._update_ids)}-0"] = (update_id, payload)
            self._changed.notify_all()
        return True

    def take_updates(
        self, consumer: str, block_seconds: float, count: int
    ) -> list[tuple[str, str]]:
        """Entries left unacknowledged for STALE_UPDATE_MS first (each take counted; one taken
        more than MAX_UPDATE_DELIVERIES times is set aside), then new ones, waiting up to
        `block_seconds` for some."""
        stale_before = self.clock() - STALE_UPDATE_MS / 1000
        with self._changed:
            reclaimed: list[tuple[str, str]] = []
            for entry_id in sorted(self._pending, key=_stream_order):
                held = self._pending[entry_id]
                if held.delivered_at > stale_before or len(reclaimed) == count:
                    continue
                self._pending[entry_id] = _Pending(consumer, self.clock(), held.deliveries + 1)
                if held.deliveries + 1 > MAX_UPDATE_DELIVERIES:
                    self._bury(entry_id, held.deliveries)
                else:
                    reclaimed.append((entry_id, self._stream[entry_id][1]))
            if reclaimed:
                return reclaimed
            self._changed.wait_for(lambda: bool(self._new_updates()), block_seconds)
            taken = self._new_updates()[:count]
            for entry_id in taken:
                self._pending[entry_id] = _Pending(consumer, self.clock(), 1)
            return [(entry_id, self._stream[entry_id][1]) for entry_id in taken]

    def _new_updates(self) -> list[str]:
        return [entry_id for entry_id in self._stream if entry_id not in self._pending]

    def _bury(self, entry_id: str, attempts: int) -> None:
        update_id, payload = self._stream.pop(entry_id)
        self._pending.pop(entry_id)
        dead = {
            "entry_id": entry_id,
            "update_id": str(update_id),
            "attempts": attempts,
            "at": int(self.clock()),
            "payload": payload,
        }
        self._dead_updates = [dead, *self._dead_updates][:DEAD_UPDATES_KEPT]

    def keep_updates(self, consumer: str, entry_ids: Sequence[str]) -> None:
        """`consumer` is still at these entries: their idle time starts afresh."""
        for entry_id in entry_ids:
            held = self._pending.get(entry_id)
            if held is not None:
                self._pending[entry_id] = _Pending(consumer, self.clock(), held.deliveries)

    def ack_update(self, entry_id: str) -> None:
        """Handled: drop the entry."""
        self._pending.pop(entry_id, None)
        self._stream.pop(entry_id, None)

    def count_inbound(self, user_id: int, window_seconds: int) -> int:
        """One more update from `user_id` in the current fixed window; how many so far."""
        key = (user_id, int(self.clock()) // window_seconds)
        self._inbound[key] = self._inbound.get(key, 0) + 1
        return self._inbound[key]

    def dead_update_count(self) -> int:
        """Updates set aside."""
        return len(self._dead_updates)

    def dead_updates(self) -> list[dict[str, Any]]:
        """The updates set aside, newest first."""
        return list(self._dead_updates)

    def queued_updates(self) -> int:
        """Updates stored and not yet handled."""
        return len(self._stream)

    def polling_offset(self) -> int | None:
        """The next getUpdates offset, if one was set."""
        return self._offset

    def set_polling_offset(self, offset: int) -> None:
        """Remember the next getUpdates offset."""
        self._offset = offset


def _stream_order(entry_id: str) -> int:
    return int(entry_id.partition("-")[0])


# --- 1C -----------------------------------------------------------------------------------------


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


class FakeOneC:
    """1C as a dict of tasks, users and groups, answering as contract v1 says.

    `error`, while set, is raised by every call (1C down, or a login page). `outcome`, while
    set, is what `submit_decision` does instead of deciding: a Task to return or an error to
    raise. Every decision request is kept in `requests`, every applied one in `written`.
    """

    def __init__(
        self,
        tasks: Iterable[Task] = (),
        *,
        users: Iterable[OneCUser] = (),
        groups: dict[str, frozenset[str]] | None = None,
        print_form: bytes | None = None,
        now: Callable[[], datetime] = lambda: NOW,
    ) -> None:
        self.tasks: dict[str, Task] = {task.id: task for task in tasks}
        self.users = list(users)
        self.groups = dict(groups or {})
        self.form = print_form
        self.now = now
        self.error: GatewayError | None = None
        self.outcome: Task | GatewayError | None = None
        self.requests: list[DecisionRequest] = []
        self.written: list[DecisionRequest] = []
        self.phone_queries: list[str] = []
        self.print_form_requests: list[str] = []
        self._answers: dict[str, Task | GatewayError] = {}

    def add(self, *tasks: Task) -> None:
        """Put tasks in (or replace them by id)."""
        self.tasks.update((task.id, task) for task in tasks)

    def add_users_of(self, *links: UserLink) -> None:
        """Give 1C the users these links point at, with the linked phone on their cards, so
        the links stand when the flow checks them against 1C."""
        self.users += [OneCUser(k.onec_user_id, k.onec_user_name, (k.phone,)) for k in links]

    def _up(self) -> None:
        if self.error is not None:
            raise self.error

    def ping(self) -> None:
        """Raise `error` if set."""
        self._up()

    def pending_tasks(self) -> list[Task]:
        """The pending tasks, in the order they were added."""
        self._up()
        return [task for task in self.tasks.values() if task.is_pending]

    def get_task(self, task_id: str) -> Task:
        """One task; NotFound for an unknown id."""
        self._up()
        try:
            return self.tasks[task_id]
        except KeyError:
            raise NotFound("1C", "not_found", f"no task {task_id}") from None

    def find_users_by_phone(self, phone: str) -> list[OneCUser]:
        """Users with a card phone of exactly these digits."""
        self._up()
        self.phone_queries.append(phone)
        digits = _digits(phone)
        return [user for user in self.users if digits and digits in user.phones]

    def print_form(self, task: Task) -> bytes | None:
        """The fixed print form bytes (None: 1C has none)."""
        self._up()
        self.print_form_requests.append(task.id)
        return self.form

    def group_members(self, name: str) -> frozenset[str]:
        """The members of a users group; NotFound for an unknown group."""
        self._up()
        try:
            return self.groups[name]
        except KeyError:
            raise NotFound("1C", "not_found", f"no users group {name}") from None

    def submit_decision(self, request: DecisionRequest) -> Task:
        """`outcome` if set; else the decision applied as 1C does, once per idempotency key:
        NotFound, InvalidRequest (not offered), NotPerformer, AlreadyCompleted, StaleDecision
        (task or document version differs), else the task completed with the result."""
        self._up()
        self.requests.append(request)
        if self.outcome is not None:
            answer = self.outcome
        else:
            answer = self._answers.get(request.idempotency_key) or self._decide(request)
            self._answers[request.idempotency_key] = answer
        if isinstance(answer, GatewayError):
            raise answer
        return answer

    def _decide(self, request: DecisionRequest) -> Task | GatewayError:
        task = self.tasks.get(request.task_id)
        if task is None:
            return NotFound("1C", "not_found", f"no task {request.task_id}")
        if not task.allows(request.decision):
            return InvalidRequest("1C", "invalid", f"decision {request.decision} not offered")
        if not task.may_decide(request.user_id):
            return NotPerformer("1C", "not_performer", "user_id is not a performer of the task")
        if not task.is_pending:
            return AlreadyCompleted("1C", "the task is no longer pending", task)
        if request.expected_version and request.expected_version != task.version:
            return StaleDecision("1C", "the task changed", task)
        subject_version = request.expected_subject_version
        if subject_version and subject_version != task.subject.version:
            return StaleDecision("1C", "the document changed", task)
        result = Result(request.decision, request.comment, request.user_id, self.now())
        done = replace(task, state=TaskState.COMPLETED, result=result)
        self.tasks[task.id] = done
        self.written.append(request)
        return done


# --- Telegram -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentMessage:
    """A message the fake messenger sent: a text, or a document with its caption."""

    ref: MessageRef
    html: str
    markup: Markup | None = None
    reply_to: int | None = None
    document: Attachment | None = None


@dataclass(frozen=True)
class Edit:
    """One edit of a sent message's text or caption and keyboard."""

    ref: MessageRef
    html: str
    is_caption: bool
    keyboard: Keyboard = ()


@dataclass(frozen=True)
class CallbackAnswer:
    """The answer to a button press."""

    callback_id: str
    text: str
    alert: bool


@dataclass
class FakeMessenger:
    """Telegram that records everything: sends get message ids counting up per chat.

    Chats in `blocked` raise RecipientBlocked; `error`, while set, is raised by every call, and
    `failures` by the next calls, one each (a 429 or two); edits of messages in `gone` raise
    NotFound. A document with bytes is an upload (counted in
    `uploads`) and gets file id `file-<n>`; one sent by file id reuses it.
    """

    blocked: set[int] = field(default_factory=set)
    first_message_id: int = 1
    error: GatewayError | None = None
    gone: set[MessageRef] = field(default_factory=set)
    sent: list[SentMessage] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    answers: list[CallbackAnswer] = field(default_factory=list)
    commands: list[tuple[str, str]] = field(default_factory=list)
    uploads: int = 0
    failures: list[GatewayError] = field(default_factory=list)
    _next_ids: dict[int, int] = field(default_factory=dict, repr=False)

    def _up(self) -> None:
        if self.failures:
            raise self.failures.pop(0)
        if self.error is not None:
            raise self.error

    def _send(self, chat_id: int) -> MessageRef:
        self._up()
        if chat_id in self.blocked:
            raise RecipientBlocked("Telegram", "403", "Forbidden: bot was blocked by the user")
        message_id = self._next_ids.get(chat_id, self.first_message_id)
        self._next_ids[chat_id] = message_id + 1
        return MessageRef(chat_id, message_id)

    def ping(self) -> None:
        """Raise the next of `failures`, or `error` if set."""
        self._up()

    def send_text(
        self, chat_id: int, html: str, markup: Markup | None = None, reply_to: int | None = None
    ) -> Sent:
        """Record a text message."""
        ref = self._send(chat_id)
        self.sent.append(SentMessage(ref, html, markup, reply_to))
        return Sent(ref)

    def send_document(
        self, chat_id: int, document: Attachment, caption_html: str, markup: Markup | None = None
    ) -> Sent:
        """Record a document; an upload gets a new file id, a file id is reused."""
        ref = self._send(chat_id)
        file_id = document.file_id
        if file_id is None:
            self.uploads += 1
            file_id = f"file-{self.uploads}"
        self.sent.append(SentMessage(ref, caption_html, markup, document=document))
        return Sent(ref, file_id)

    def edit(
        self, ref: MessageRef, html: str, *, is_caption: bool, keyboard: Keyboard = ()
    ) -> None:
        """Record an edit; NotFound for a message in `gone`."""
        self._up()
        if ref in self.gone:
            raise NotFound("Telegram", "400", "Bad Request: message to edit not found")
        self.edits.append(Edit(ref, html, is_caption, keyboard))

    def answer_callback(self, callback_id: str, text: str = "", alert: bool = False) -> None:
        """Record the answer to a press."""
        self._up()
        self.answers.append(CallbackAnswer(callback_id, text, alert))

    def set_commands(self, commands: Sequence[tuple[str, str]]) -> None:
        """Record the command menu."""
        self._up()
        self.commands = list(commands)

    def to(self, chat_id: int) -> list[str]:
        """Texts and captions sent to one chat, in order."""
        return [m.html for m in self.sent if m.ref.chat_id == chat_id]

    def texts(self) -> list[str]:
        """Texts and captions sent to any chat, in order."""
        return [m.html for m in self.sent]

    def edited(self, message_id: int, chat_id: int | None = None) -> str:
        """The last text an edit gave this message (KeyError if it was never edited)."""
        for edit in reversed(self.edits):
            if edit.ref.message_id == message_id and chat_id in (None, edit.ref.chat_id):
                return edit.html
        raise KeyError(message_id)

    def answer_texts(self) -> list[str]:
        """The texts of every answer to a press, in order."""
        return [answer.text for answer in self.answers]


# --- documents ----------------------------------------------------------------------------------


class FakeRenderer:
    """A PdfRenderer giving fixed bytes; counts renderings; raises `error` while it is set."""

    def __init__(
        self,
        content: bytes = PDF,
        engine: str = "fake-engine",
        template: str = "default.html#v1.ru",
    ) -> None:
        self.content = content
        self._engine = engine
        self.template = template
        self.error: GatewayError | None = None
        self.rendered: list[str] = []

    @property
    def engine(self) -> str:
        """The engine's name (part of the rendition key)."""
        return self._engine

    @property
    def renders(self) -> int:
        """How many renderings were asked for."""
        return len(self.rendered)

    def ping(self) -> None:
        """Raise `error` if set."""
        if self.error is not None:
            raise self.error

    def template_for(self, task: Task) -> str:
        """The fixed template name."""
        return self.template

    def render(self, task: Task) -> bytes:
        """The fixed bytes (after `error`, if set, is raised)."""
        self.ping()
        self.rendered.append(task.id)
        return self.content


class MemoryDocuments:
    """A DocumentCache in two dicts, PDFs and file ids apart as Redis keeps them; every call
    raises UpstreamUnavailable while `down` is set."""

    def __init__(self) -> None:
        self.pdfs: dict[str, bytes] = {}
        self.file_ids: dict[str, str] = {}
        self.down = False

    def _up(self) -> None:
        if self.down:
            raise UpstreamUnavailable("Redis", "connection refused")

    def get_pdf(self, key: str) -> bytes | None:
        """The cached PDF, or None."""
        self._up()
        return self.pdfs.get(key)

    def put_pdf(self, key: str, content: bytes) -> None:
        """Keep the PDF."""
        self._up()
        self.pdfs[key] = content

    def get_file_id(self, key: str) -> str | None:
        """The file id of the first upload, or None."""
        self._up()
        return self.file_ids.get(key)

    def put_file_id(self, key: str, file_id: str) -> None:
        """Remember the file id."""
        self._up()
        self.file_ids[key] = file_id


# --- the context --------------------------------------------------------------------------------


def make_context(store: Store | None = None, **overrides: Any) -> FlowContext:
    """A FlowContext over `store` (a new InMemoryStore by default) with fresh fakes, Russian
    texts, SECRET and a ManualClock at NOW; `overrides` replace any field, a storage port too."""
    store = InMemoryStore() if store is None else store
    parts: dict[str, Any] = {name: store for name in STORAGE_PORTS}
    parts.update(
        onec=FakeOneC(),
        messenger=FakeMessenger(),
        renderer=FakeRenderer(),
        documents=MemoryDocuments(),
        texts=Texts("ru"),
        secret=SECRET,
        now=ManualClock(),
    )
    parts.update(overrides)
    return FlowContext(**parts)


# mypy proves here that every fake satisfies its port.


def _store_is_a_store(store: InMemoryStore) -> Store:
    return store


def _onec_is_onec(onec: FakeOneC) -> OneC:
    return onec


def _messenger_is_a_messenger(messenger: FakeMessenger) -> Messenger:
    return messenger


def _renderer_is_a_renderer(renderer: FakeRenderer) -> PdfRenderer:
    return renderer


def _documents_are_a_cache(documents: MemoryDocuments) -> DocumentCache:
    return documents


def _clock_is_a_now(clock: ManualClock) -> Callable[[], datetime]:
    return clock
