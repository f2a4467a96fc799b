"""The approval flow's state on Redis: cards per (task, chat), reason prompts, admin invites.

Keys (after the prefix):
  card:<task id>:<chat id>          hash    one Delivery
  card-claim:<task id>:<chat id>    string  the task version whose card one worker is sending
  cards:<task id>                   set     chat ids with an open card of the task
  tracked                           set     task ids with at least one open card
  prompt:<chat id>                  hash    the return reason being typed in that chat
  invite:<code>                     string  a one-time admin invitation (expires)
  admins-group                      string  1C user ids of ONEC_ADMINS_GROUP, comma-separated
  status                            hash    last sync, 1C outage start, for /status and alerts
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

import redis
from redis.typing import EncodableT, FieldT

from adapters.redis_store.connection import translated_errors
from gateway.domain.records import Delivery, Prompt
from gateway.domain.tasks import Decision

CLAIM_SECONDS: Final = 60  # a worker that died mid-send frees the card after this
PROMPT_SECONDS: Final = 24 * 3600


class FlowState:
    """Mixin for RedisStore: needs `self._redis` and `self.key(...)`."""

    _redis: redis.Redis

    key: Callable[..., str]  # RedisStore.key: the full key for parts, after the prefix

    # --- cards --------------------------------------------------------------------------------

    def claim_delivery(self, task_id: str, chat_id: int, version: str) -> bool:
        """True for the one caller that should send this (task, chat, version) card."""
        with translated_errors():
            current = self._redis.hget(self.key("card", task_id, chat_id), "version")
            if current == version:
                return False
            claimed = self._redis.set(
                self.key("card-claim", task_id, chat_id), version, nx=True, ex=CLAIM_SECONDS
            )
        return bool(claimed)

    def save_delivery(self, delivery: Delivery) -> None:
        """Store the card and release its claim."""
        fields: dict[FieldT, EncodableT] = {
            "message_id": delivery.message_id,
            "version": delivery.version,
            "is_caption": int(delivery.is_caption),
            "text": delivery.text,
            "delivered_at": delivery.delivered_at.isoformat(),
            "reminded_at": delivery.reminded_at.isoformat() if delivery.reminded_at else "",
            "deciding": delivery.deciding,
            "subject_version": delivery.subject_version,
        }
        with translated_errors():
            pipe = self._redis.pipeline(transaction=True)
            pipe.hset(self.key("card", delivery.task_id, delivery.chat_id), mapping=fields)
            pipe.sadd(self.key("cards", delivery.task_id), delivery.chat_id)
            pipe.sadd(self.key("tracked"), delivery.task_id)
            pipe.delete(self.key("card-claim", delivery.task_id, delivery.chat_id))
            pipe.execute()

    def get_delivery(self, task_id: str, chat_id: int) -> Delivery | None:
        """The open card of the task in this chat, if any."""
        with translated_errors():
            raw = self._redis.hgetall(self.key("card", task_id, chat_id))
        if not raw:
            return None
        f = {str(k): str(v) for k, v in raw.items()}
        return Delivery(
            task_id=task_id,
            chat_id=chat_id,
            message_id=int(f["message_id"]),
            version=f["version"],
            is_caption=f["is_caption"] == "1",
            delivered_at=datetime.fromisoformat(f["delivered_at"]),
            text=f.get("text", ""),
            reminded_at=datetime.fromisoformat(f["reminded_at"]) if f.get("reminded_at") else None,
            deciding=f.get("deciding", ""),
            subject_version=f.get("subject_version", ""),
        )

    def deliveries_for_task(self, task_id: str) -> list[Delivery]:
        """Every open card of the task."""
        with translated_errors():
            chats = self._redis.smembers(self.key("cards", task_id))
        found = (self.get_delivery(task_id, int(c)) for c in sorted(int(c) for c in chats))
        return [d for d in found if d is not None]

    def close_delivery(self, task_id: str, chat_id: int) -> None:
        """Forget the card; the task stops being tracked when its last card closes."""
        with translated_errors():
            pipe = self._redis.pipeline(transaction=True)
            pipe.delete(self.key("card", task_id, chat_id))
            pipe.delete(self.key("card-claim", task_id, chat_id))
            pipe.srem(self.key("cards", task_id), chat_id)
            pipe.scard(self.key("cards", task_id))
            left = pipe.execute()[-1]
            if not left:
                self._redis.srem(self.key("tracked"), task_id)

    def tracked_tasks(self) -> set[str]:
        """Ids of tasks with an open card."""
        with translated_errors():
            return {str(t) for t in self._redis.smembers(self.key("tracked"))}

    # --- prompts ------------------------------------------------------------------------------

    def save_prompt(self, prompt: Prompt) -> None:
        """The chat's reason prompt (replacing an earlier one); it expires after a day."""
        fields: dict[FieldT, EncodableT] = {
            "prompt_message_id": prompt.prompt_message_id,
            "task_id": prompt.task_id,
            "decision": prompt.decision.value,
            "version": prompt.version,
            "card_message_id": prompt.card_message_id,
            "created_at": prompt.created_at.isoformat(),
            "subject_version": prompt.subject_version,
        }
        key = self.key("prompt", prompt.chat_id)
        with translated_errors():
            pipe = self._redis.pipeline(transaction=True)
            pipe.delete(key)
            pipe.hset(key, mapping=fields)
            pipe.expire(key, PROMPT_SECONDS)
            pipe.execute()

    def get_prompt(self, chat_id: int) -> Prompt | None:
        """The reason prompt open in this chat."""
        with translated_errors():
            raw = self._redis.hgetall(self.key("prompt", chat_id))
        if not raw:
            return None
        f = {str(k): str(v) for k, v in raw.items()}
        return Prompt(
            chat_id=chat_id,
            prompt_message_id=int(f["prompt_message_id"]),
            task_id=f["task_id"],
            decision=Decision(f["decision"]),
            version=f["version"],
            card_message_id=int(f["card_message_id"]),
            created_at=datetime.fromisoformat(f["created_at"]),
            subject_version=f.get("subject_version", ""),
        )

    def delete_prompt(self, chat_id: int) -> None:
        """Close the chat's reason prompt."""
        with translated_errors():
            self._redis.delete(self.key("prompt", chat_id))

    # --- admins from 1C -----------------------------------------------------------------------

    def save_group_admins(self, onec_user_ids: frozenset[str]) -> None:
        """Replace the members of the admins group as last read from 1C."""
        with translated_errors():
            self._redis.set(self.key("admins-group"), ",".join(sorted(onec_user_ids)))

    def group_admins(self) -> frozenset[str]:
        """The members of the admins group as last read from 1C (none before the first read)."""
        with translated_errors():
            value = self._redis.get(self.key("admins-group"))
        return frozenset(part for part in str(value or "").split(",") if part)

    # --- status -------------------------------------------------------------------------------

    def set_status(self, **fields: str) -> None:
        """Set status fields; an empty value removes the field."""
        key = self.key("status")
        with translated_errors():
            pipe = self._redis.pipeline(transaction=True)
            for name, value in fields.items():
                if value:
                    pipe.hset(key, name, value)
                else:
                    pipe.hdel(key, name)
            pipe.execute()

    def get_status(self) -> dict[str, str]:
        """Every status field."""
        with translated_errors():
            raw = self._redis.hgetall(self.key("status"))
        return {str(k): str(v) for k, v in raw.items()}

    # --- admin invites ------------------------------------------------------------------------

    def save_invite(self, code: str, ttl_seconds: int) -> None:
        """A one-time code valid for `ttl_seconds`."""
        with translated_errors():
            self._redis.set(self.key("invite", code), "1", ex=ttl_seconds)

    def take_invite(self, code: str) -> bool:
        """True once for a valid code (deleting it is the check, so two uses cannot both win)."""
        with translated_errors():
            return bool(self._redis.delete(self.key("invite", code)))
