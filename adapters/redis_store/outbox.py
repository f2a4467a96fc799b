"""The durable decision outbox on Redis.

Keys (after the prefix):
  outbox:entry:<id>    hash   the entry: JSON request, subject, attempts, last error
  outbox:due           zset   id → time of the next attempt (unix seconds)
  outbox:lease:<id>    string the worker attempting it now (expires, so a killed worker's
                              entry is picked up by another)
  outbox:dead          zset   id → time it was given up on
An entry is written before the approver is told anything and deleted only once 1C has it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import redis

from adapters.redis_store.connection import translated_errors
from gateway.domain import Decision, DecisionRequest, MessageRef
from gateway.ports import OutboxEntry


def _request_to_json(request: DecisionRequest) -> str:
    return json.dumps(
        {
            "task_id": request.task_id,
            "decision": request.decision.value,
            "comment": request.comment,
            "user_id": request.user_id,
            "user_name": request.user_name,
            "idempotency_key": request.idempotency_key,
            "requested_at": request.requested_at.isoformat(),
            "telegram_user_id": request.telegram_user_id,
            "message": [request.message.chat_id, request.message.message_id]
            if request.message
            else None,
        },
        ensure_ascii=False,
    )


def _request_from_json(text: str) -> DecisionRequest:
    d: dict[str, Any] = json.loads(text)
    message = d.get("message")
    return DecisionRequest(
        task_id=d["task_id"],
        decision=Decision(d["decision"]),
        comment=d["comment"],
        user_id=d["user_id"],
        user_name=d["user_name"],
        idempotency_key=d["idempotency_key"],
        requested_at=datetime.fromisoformat(d["requested_at"]),
        telegram_user_id=d.get("telegram_user_id"),
        message=MessageRef(int(message[0]), int(message[1])) if message else None,
    )


class Outbox:
    """Mixin for RedisStore: needs `self._redis` and `self.key(...)`."""

    _redis: redis.Redis

    key: Callable[..., str]  # RedisStore.key: the full key for parts, after the prefix

    def enqueue(self, entry: OutboxEntry) -> bool:
        """Store the entry unless one with its id exists; due at once (`next_at`)."""
        key = self.key("outbox", "entry", entry.id)
        with translated_errors():
            created = self._redis.hsetnx(key, "request", _request_to_json(entry.request))
            if not created:
                return False
            pipe = self._redis.pipeline(transaction=True)
            pipe.hset(
                key,
                mapping={
                    "subject": entry.subject,
                    "is_caption": int(entry.is_caption),
                    "attempts": entry.attempts,
                    "last_error": entry.last_error,
                },
            )
            pipe.zadd(self.key("outbox", "due"), {entry.id: entry.next_at})
            pipe.execute()
        return True

    def get_entry(self, entry_id: str) -> OutboxEntry | None:
        """One entry by id, wherever it is (due or dead)."""
        with translated_errors():
            raw = self._redis.hgetall(self.key("outbox", "entry", entry_id))
            score = self._redis.zscore(self.key("outbox", "due"), entry_id)
        if not raw or "request" not in {str(k) for k in raw}:
            return None
        f = {str(k): str(v) for k, v in raw.items()}
        return OutboxEntry(
            request=_request_from_json(f["request"]),
            subject=f.get("subject", ""),
            is_caption=f.get("is_caption") == "1",
            attempts=int(f.get("attempts") or 0),
            next_at=float(score or 0),
            last_error=f.get("last_error", ""),
        )

    def due(self, now: float, limit: int) -> list[OutboxEntry]:
        """Entries due by `now`, earliest first."""
        with translated_errors():
            ids = self._redis.zrangebyscore(self.key("outbox", "due"), "-inf", now, 0, limit)
        entries = (self.get_entry(str(i)) for i in ids)
        return [e for e in entries if e is not None]

    def claim(self, entry_id: str, lease_seconds: float) -> bool:
        """A lease on the entry for this worker; False while another worker holds one."""
        with translated_errors():
            return bool(
                self._redis.set(
                    self.key("outbox", "lease", entry_id),
                    uuid.uuid4().hex,
                    nx=True,
                    px=max(1, int(lease_seconds * 1000)),
                )
            )

    def reschedule(self, entry_id: str, attempts: int, next_at: float, error: str) -> None:
        """Try again at `next_at`; the lease is released."""
        with translated_errors():
            pipe = self._redis.pipeline(transaction=True)
            pipe.hset(
                self.key("outbox", "entry", entry_id),
                mapping={"attempts": attempts, "last_error": error},
            )
            pipe.zadd(self.key("outbox", "due"), {entry_id: next_at})
            pipe.delete(self.key("outbox", "lease", entry_id))
            pipe.execute()

    def complete(self, entry_id: str) -> None:
        """1C has the decision: forget the entry."""
        with translated_errors():
            pipe = self._redis.pipeline(transaction=True)
            pipe.delete(self.key("outbox", "entry", entry_id))
            pipe.zrem(self.key("outbox", "due"), entry_id)
            pipe.delete(self.key("outbox", "lease", entry_id))
            pipe.execute()

    def dead_letter(self, entry_id: str, error: str) -> None:
        """Give up on the entry; it stays readable under outbox:dead for the admins."""
        with translated_errors():
            pipe = self._redis.pipeline(transaction=True)
            pipe.hset(self.key("outbox", "entry", entry_id), "last_error", error)
            pipe.zrem(self.key("outbox", "due"), entry_id)
            pipe.zadd(self.key("outbox", "dead"), {entry_id: datetime.now().timestamp()})
            pipe.delete(self.key("outbox", "lease", entry_id))
            pipe.execute()

    def outbox_depth(self) -> int:
        """Decisions waiting to reach 1C."""
        with translated_errors():
            return int(self._redis.zcard(self.key("outbox", "due")))

    def dead_letter_count(self) -> int:
        """Decisions given up on."""
        with translated_errors():
            return int(self._redis.zcard(self.key("outbox", "dead")))
