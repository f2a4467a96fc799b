"""Storage ports: the gateway's state (Redis), one protocol per concern; `Store` is all of them.

Every method may raise only errors from `gateway.errors`."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Final, Protocol

from gateway.domain.records import Delivery, MessageRef, OutboxEntry, Prompt, UserLink
from gateway.ports.pingable import Pingable


class LeaderRole(StrEnum):
    """The leader locks workers take through `Coordination`; `/status` names the sync leader."""

    SYNC = "sync"  # the 1C sync loop
    POLLER = "poller"  # Telegram long polling (polling mode)


# A sync request naming no task (`Coordination.request_sync([])`): the leader makes a full pass.
FULL_PASS: Final = "*"


class StatusField(StrEnum):
    """The fields of the shared status (`StatusStore`): written by the sync monitor, read back
    by `/status` and the admins' /status command."""

    LAST_SYNC_AT = "last_sync_at"
    LAST_SYNC_PENDING = "last_sync_pending"
    LAST_SYNC_ERROR = "last_sync_error"
    SYNC_FAILURES = "sync_failures"
    ONEC_DOWN_SINCE = "onec_down_since"
    ONEC_DOWN_ALERTED = "onec_down_alerted"


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
