"""The administrator's commands on links and the decision outbox (`tg1c links`, `tg1c outbox`).

Plain functions on the Store port. Every change is logged with who it concerns (Telegram and 1C
ids, the entry's task and decision), never a comment's text or a phone number.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from gateway.domain.records import OutboxEntry, UserLink
from gateway.ports.storage import LinkStore, OutboxStore

log = logging.getLogger(__name__)

OUTBOX_LIST_LIMIT: Final = 1000


def link_to_dict(link: UserLink) -> dict[str, Any]:
    """A link as `links list --json` prints it."""
    return link.as_dict()


def links_to_revoke(
    store: LinkStore, telegram_user_ids: Sequence[int], onec_user_id: str = ""
) -> list[UserLink]:
    """The links the arguments name: Telegram users, and every link of one 1C user."""
    found: dict[int, UserLink] = {}
    for user_id in telegram_user_ids:
        link = store.get_link(user_id)
        if link is not None:
            found[link.telegram_user_id] = link
    if onec_user_id:
        for link in store.links_for_onec_user(onec_user_id):
            found[link.telegram_user_id] = link
    return sorted(found.values(), key=lambda link: link.telegram_user_id)


def revoke_links(store: LinkStore, links: Sequence[UserLink]) -> int:
    """Drop the links; returns how many. The person may connect again while 1C still has
    their phone on a valid user: the admin guide says to change that in 1C as well."""
    for link in links:
        store.delete_link(link.telegram_user_id)
        log.warning(
            "admin revoked the link of Telegram user %s (1C user %s)",
            link.telegram_user_id,
            link.onec_user_id,
        )
    return len(links)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """An outbox entry as the admin commands show it: `waiting` or `dead`."""

    state: str
    entry: OutboxEntry

    def as_dict(self) -> dict[str, Any]:
        """The item as `outbox list --json` prints it (the comment's text is left out)."""
        request = self.entry.request
        return {
            "id": self.entry.id,
            "state": self.state,
            "task_id": request.task_id,
            "decision": request.decision.value,
            "onec_user_id": request.user_id,
            "onec_user_name": request.user_name,
            "telegram_user_id": request.telegram_user_id,
            "requested_at": request.requested_at.isoformat(),
            "subject": self.entry.subject,
            "attempts": self.entry.attempts,
            "next_attempt_at": self.entry.next_at if self.state == "waiting" else None,
            "last_error": self.entry.last_error,
        }


def outbox_items(store: OutboxStore, limit: int = OUTBOX_LIST_LIMIT) -> list[OutboxItem]:
    """Decisions waiting for 1C, then those given up on, oldest first in each."""
    waiting = [OutboxItem("waiting", e) for e in store.due(math.inf, limit)]
    return waiting + [OutboxItem("dead", e) for e in store.dead(limit)]


def retry_entries(store: OutboxStore, entry_ids: Sequence[str], now: float) -> list[str]:
    """Make each entry due now (dead ones too); returns the ids that were retried."""
    return _each_entry(
        store, entry_ids, lambda entry_id: store.retry_entry(entry_id, now), "retried", ""
    )


def drop_entries(store: OutboxStore, entry_ids: Sequence[str]) -> list[str]:
    """Forget each entry (its decision never reaches 1C); returns the ids that were dropped."""
    return _each_entry(store, entry_ids, store.drop_entry, "dropped", " never reaches 1C")


def _each_entry(
    store: OutboxStore,
    entry_ids: Sequence[str],
    act: Callable[[str], bool],
    done: str,
    outcome: str,
) -> list[str]:
    """`act` on each existing entry, logging each one it took; the ids it took."""
    taken = []
    for entry_id in entry_ids:
        entry = store.get_entry(entry_id)
        if entry is not None and act(entry_id):
            taken.append(entry_id)
            log.warning(
                "admin %s outbox entry %s: %s on task %s by 1C user %s%s",
                done,
                entry_id,
                entry.request.decision.value,
                entry.request.task_id,
                entry.request.user_id,
                outcome,
            )
    return taken
