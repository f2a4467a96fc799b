"""The durable decision outbox on Redis.

Keys (after the prefix):
  outbox:entry:<id>    hash   the entry: JSON request, subject, attempts, last error
  outbox:due           zset   id → time of the next attempt (unix seconds)
  outbox:lease:<id>    string the lease token of the worker attempting it now (expires, so a
                              killed worker's entry is picked up by another)
  outbox:dead          zset   id → time it was given up on
An entry is written before the approver is told anything and deleted only once 1C has it.

Every change is one Lua script, which Redis runs whole or not at all (and writes to its AOF as
one transaction): an entry is never stored without being due, and while a worker holds an
entry's lease no other may reschedule, complete, dead-letter or release it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

import redis
from redis.typing import EncodableT

from adapters.redis_store.connection import translated_errors
from gateway.domain.records import DecisionRequest, MessageRef, OutboxEntry
from gateway.domain.tasks import Decision


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
            "telegram_user_name": request.telegram_user_name,
            "message": [request.message.chat_id, request.message.message_id]
            if request.message
            else None,
            "expected_version": request.expected_version,
            "expected_subject_version": request.expected_subject_version,
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
        # Entries queued before decisions carried versions have none: nothing is compared.
        expected_version=d.get("expected_version") or "",
        expected_subject_version=d.get("expected_subject_version") or "",
        telegram_user_name=d.get("telegram_user_name") or "",
    )


# Store and make due, unless the entry exists. An entry found in neither `due` nor `dead` was
# half-written by an older version (two steps, interrupted): it is written again and made due.
_ENQUEUE: Final = """
if redis.call('EXISTS', KEYS[1]) == 1 and (redis.call('ZSCORE', KEYS[2], ARGV[7])
    or redis.call('ZSCORE', KEYS[3], ARGV[7])) then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'request', ARGV[1], 'subject', ARGV[2], 'is_caption', ARGV[3],
  'attempts', ARGV[4], 'last_error', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[7])
return 1
"""
# A lease on an entry still due by `now` that nobody else holds (the same token again renews).
_CLAIM: Final = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return 0 end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
return 1
"""
# Go on only for the lease's holder, or, once its lease expired, for a worker whose entry is
# still due and unclaimed: a write to 1C slower than the lease is then still settled.
_OWNER_CHECK: Final = """
local holder = redis.call('GET', KEYS[3])
if holder ~= ARGV[2] and (holder or not redis.call('ZSCORE', KEYS[2], ARGV[1])) then
  return 0
end
"""


def _settling(steps: str) -> str:
    """A script that runs `steps` for the lease's holder only (_OWNER_CHECK), then ends the
    lease and answers 1."""
    return _OWNER_CHECK + steps + "redis.call('DEL', KEYS[3])\nreturn 1\n"


_RESCHEDULE: Final = _settling("""
redis.call('HSET', KEYS[1], 'attempts', ARGV[3], 'last_error', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
""")
_COMPLETE: Final = _settling("""
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
""")
_DEAD_LETTER: Final = _settling("""
redis.call('HSET', KEYS[1], 'last_error', ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
""")
_RELEASE: Final = _settling("\n")
# Every entry waiting for a later attempt becomes due now, in the order they were waiting.
_RETRY_NOW: Final = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')
local now = tonumber(ARGV[1])
for i, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], now - (#ids - i + 1) / 10000, id)
end
return #ids
"""

# An administrator's retry (`outbox retry`): due now, out of `dead`, attempts afresh; refused
# while a worker holds the lease (its own outcome settles the entry).
_RETRY_ENTRY: Final = """
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
if not (redis.call('ZSCORE', KEYS[2], ARGV[1]) or redis.call('ZSCORE', KEYS[4], ARGV[1])) then
  return 0
end
redis.call('HSET', KEYS[1], 'attempts', 0)
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
"""
# An administrator's drop (`outbox drop`): the entry is forgotten unless a worker holds it.
_DROP_ENTRY: Final = """
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
return 1
"""


class Outbox:
    """Mixin for RedisStore: needs `self._redis` and `self.key(...)`."""

    _redis: redis.Redis

    key: Callable[..., str]  # RedisStore.key: the full key for parts, after the prefix

    def _run(self, script: str, keys: list[str], *args: EncodableT) -> int:
        with translated_errors():
            return int(self._redis.eval(script, len(keys), *keys, *args))

    def _keys(self, entry_id: str) -> list[str]:
        """entry, due, lease, dead: the keys every script of one entry may touch."""
        return [
            self.key("outbox", "entry", entry_id),
            self.key("outbox", "due"),
            self.key("outbox", "lease", entry_id),
            self.key("outbox", "dead"),
        ]

    def enqueue(self, entry: OutboxEntry) -> bool:
        """Store the entry, due at `next_at`, in one step; False if it is already there."""
        entry_key, due, _, dead = self._keys(entry.id)
        created = self._run(
            _ENQUEUE,
            [entry_key, due, dead],
            _request_to_json(entry.request),
            entry.subject,
            int(entry.is_caption),
            entry.attempts,
            entry.last_error,
            entry.next_at,
            entry.id,
        )
        return bool(created)

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

    def claim(self, entry_id: str, now: float, lease_seconds: float) -> str | None:
        """A lease token on the entry if it is still due by `now` and no other worker holds
        one; None otherwise (taken, done, dead or rescheduled meanwhile)."""
        _, due, lease, _ = self._keys(entry_id)
        token = uuid.uuid4().hex
        claimed = self._run(
            _CLAIM, [due, lease], entry_id, now, token, max(1, int(lease_seconds * 1000))
        )
        return token if claimed else None

    def reschedule(
        self, entry_id: str, lease: str, attempts: int, next_at: float, error: str
    ) -> bool:
        """Try again at `next_at` and release the lease; False if another worker holds the
        entry now or it is no longer due (the same for the methods below)."""
        keys = self._keys(entry_id)[:3]
        return bool(self._run(_RESCHEDULE, keys, entry_id, lease, attempts, next_at, error))

    def complete(self, entry_id: str, lease: str) -> bool:
        """1C has the decision: forget the entry."""
        return bool(self._run(_COMPLETE, self._keys(entry_id)[:3], entry_id, lease))

    def dead_letter(self, entry_id: str, lease: str, error: str) -> bool:
        """Give up on the entry (it stays readable under outbox:dead for the admins)."""
        now = datetime.now().timestamp()
        return bool(self._run(_DEAD_LETTER, self._keys(entry_id), entry_id, lease, error, now))

    def release(self, entry_id: str, lease: str) -> bool:
        """Give the lease back unchanged (the entry stays due)."""
        return bool(self._run(_RELEASE, self._keys(entry_id)[:3], entry_id, lease))

    def retry_now(self, now: float) -> int:
        """Make every entry waiting for a later attempt due now; returns how many."""
        return self._run(_RETRY_NOW, [self.key("outbox", "due")], now)

    def dead(self, limit: int) -> list[OutboxEntry]:
        """Entries given up on, oldest first."""
        with translated_errors():
            ids = self._redis.zrange(self.key("outbox", "dead"), 0, max(limit, 1) - 1)
        entries = (self.get_entry(str(i)) for i in ids)
        return [e for e in entries if e is not None]

    def retry_entry(self, entry_id: str, now: float) -> bool:
        """Make the entry (waiting or dead) due now; False if absent or held by a worker."""
        return bool(self._run(_RETRY_ENTRY, self._keys(entry_id), entry_id, now))

    def drop_entry(self, entry_id: str) -> bool:
        """Forget the entry; False if absent or held by a worker."""
        return bool(self._run(_DROP_ENTRY, self._keys(entry_id), entry_id))

    def outbox_depth(self) -> int:
        """Decisions waiting to reach 1C."""
        with translated_errors():
            return int(self._redis.zcard(self.key("outbox", "due")))

    def dead_letter_count(self) -> int:
        """Decisions given up on."""
        with translated_errors():
            return int(self._redis.zcard(self.key("outbox", "dead")))
