"""Coordination of several gateway processes on Redis: leader locks, replay guards, sync
requests, the durable update queue, and Telegram's flood limits shared by every sender.

Keys (after the prefix):
  leader:<role>         string  owner id of the lock (expires; renewed by its owner)
  seen:<token>          string  a push signature or webhook update id already used (expires)
  sync:requests         list    task ids 1C pushed, for the sync leader ("*" = full pass)
  updates               stream  Telegram updates (JSON) not yet handled, consumer group `workers`
  updates:offset        string  the next getUpdates offset of the polling leader
  updates:dead          list    updates set aside after failing MAX_UPDATE_DELIVERIES times (JSON)
  inbound:<user>:<n>    string  updates from one Telegram user in window n (expires)
  rate:global, rate:chat:<id>  token buckets; rate:pause  "send nothing until"
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

import redis

from adapters.redis_store.connection import SOCKET_TIMEOUT_SECONDS, translated_errors

GROUP: Final = "workers"
STALE_UPDATE_MS: Final = 60_000  # an update a consumer held this long without ack is retaken
# Taken this often without an ack (its handling raised, or killed the worker, each time): the
# next take sets it aside instead of handing it out again.
MAX_UPDATE_DELIVERIES: Final = 3
DEAD_UPDATES_KEPT: Final = 1000
SEEN_UPDATE_SECONDS: Final = 24 * 3600  # Telegram redelivers an unconfirmed update for a day

# Take or renew: set when free, extend when ours.
_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1
elseif holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Two token buckets (bot-wide and per chat) and a global pause, taken together or not at all.
# Returns milliseconds to wait; 0 means a token of each bucket was taken.
_TAKE = """
local now = tonumber(ARGV[1])
local pause = tonumber(redis.call('GET', KEYS[3]) or '0')
if pause > now then return pause - now end
local function check(key, rate, burst)
  if rate <= 0 then return 0, nil, nil end
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1] or burst)
  local at = tonumber(state[2] or now)
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  if tokens < 1 then return math.ceil((1 - tokens) * 1000 / rate), tokens, at end
  return 0, tokens, now
end
local g_rate, g_burst = tonumber(ARGV[2]), tonumber(ARGV[3])
local c_rate, c_burst = tonumber(ARGV[4]), tonumber(ARGV[5])
local g_wait, g_tokens = check(KEYS[1], g_rate, g_burst)
local c_wait, c_tokens = check(KEYS[2], c_rate, c_burst)
local wait = math.max(g_wait, c_wait)
if wait > 0 then return wait end
if g_rate > 0 then
  redis.call('HSET', KEYS[1], 'tokens', g_tokens - 1, 'at', now)
  redis.call('PEXPIRE', KEYS[1], 60000)
end
if c_rate > 0 then
  redis.call('HSET', KEYS[2], 'tokens', c_tokens - 1, 'at', now)
  redis.call('PEXPIRE', KEYS[2], 60000)
end
return 0
"""


class Coordination:
    """Mixin for RedisStore: needs `self._redis` and `self.key(...)`."""

    _redis: redis.Redis

    key: Callable[..., str]  # RedisStore.key: the full key for parts, after the prefix

    # --- leadership ---------------------------------------------------------------------------

    def acquire_leadership(self, role: str, owner: str, ttl_seconds: float) -> bool:
        """Take or renew the lock; the TTL frees it if the owner dies."""
        with translated_errors():
            result = self._redis.eval(
                _ACQUIRE, 1, self.key("leader", role), owner, int(ttl_seconds * 1000)
            )
        return bool(result)

    def release_leadership(self, role: str, owner: str) -> None:
        """Release the lock if we still hold it (never someone else's)."""
        with translated_errors():
            self._redis.eval(_RELEASE, 1, self.key("leader", role), owner)

    def leader(self, role: str) -> str | None:
        """The current holder of the lock."""
        with translated_errors():
            holder = self._redis.get(self.key("leader", role))
        return None if holder is None else str(holder)

    # --- replays and sync requests ------------------------------------------------------------

    def first_use(self, token: str, ttl_seconds: int) -> bool:
        """True only the first time within the TTL."""
        with translated_errors():
            return bool(self._redis.set(self.key("seen", token), "1", nx=True, ex=ttl_seconds))

    def request_sync(self, task_ids: Sequence[str]) -> None:
        """Queue task ids for the sync leader ("*" when 1C named none: a full pass)."""
        with translated_errors():
            self._redis.rpush(self.key("sync", "requests"), *(list(task_ids) or ["*"]))

    def wait_sync_request(self, timeout_seconds: float) -> list[str] | None:
        """Block until a request comes (or the timeout); drain whatever else is queued."""
        key = self.key("sync", "requests")
        with translated_errors():
            # Below the client's socket timeout, or redis-py takes the quiet wait for a dead link.
            wait = min(max(timeout_seconds, 0.01), SOCKET_TIMEOUT_SECONDS - 1)
            first = self._redis.blpop([key], timeout=wait)
            if first is None:
                return None
            ids = [str(first[1])]
            while True:
                more = self._redis.lpop(key, 500)
                if not more:
                    break
                ids.extend(str(i) for i in more)
        return list(dict.fromkeys(ids))

    # --- the update queue ---------------------------------------------------------------------

    def _ensure_group(self) -> None:
        try:
            self._redis.xgroup_create(self.key("updates"), GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def push_update(self, update_id: int, payload: str) -> bool:
        """Queue the update once per update id (webhooks and polling redeliver).

        The stream is never trimmed by length: it holds only what is not handled yet, because
        each entry is deleted when it is acknowledged or set aside, and a cap would drop
        unhandled updates first.
        """
        with translated_errors():
            if not self._redis.set(
                self.key("seen", "update", update_id), "1", nx=True, ex=SEEN_UPDATE_SECONDS
            ):
                return False
            self._redis.xadd(self.key("updates"), {"update_id": update_id, "payload": payload})
        return True

    def take_updates(
        self, consumer: str, block_seconds: float, count: int
    ) -> list[tuple[str, str]]:
        """Entries left unacknowledged first (each delivery counted), then new ones; one
        delivered more than MAX_UPDATE_DELIVERIES times goes to the dead updates instead."""
        stream = self.key("updates")
        with translated_errors():
            self._ensure_group()
            reclaimed: Any = self._redis.xautoclaim(
                stream, GROUP, consumer, min_idle_time=STALE_UPDATE_MS, count=count
            )
            entries = [
                (str(eid), str(fields["payload"]))
                for eid, fields in reclaimed[1]
                if fields and not self._buried_after_too_many_deliveries(stream, eid, fields)
            ]
            if entries:
                return entries
            answer: Any = self._redis.xreadgroup(
                GROUP,
                consumer,
                {stream: ">"},
                count=count,
                block=max(1, int(block_seconds * 1000)),
            )
        for _, items in answer or []:
            entries += [(str(eid), str(fields["payload"])) for eid, fields in items]
        return entries

    def _buried_after_too_many_deliveries(
        self, stream: str, entry_id: str, fields: dict[str, str]
    ) -> bool:
        pending: Any = self._redis.xpending_range(
            stream, GROUP, min=entry_id, max=entry_id, count=1
        )
        deliveries = int(pending[0]["times_delivered"]) if pending else 0
        if deliveries <= MAX_UPDATE_DELIVERIES:
            return False
        dead = {
            "entry_id": str(entry_id),
            "update_id": fields.get("update_id"),
            "attempts": deliveries - 1,  # this take counted one more
            "at": int(time.time()),
            "payload": fields.get("payload"),
        }
        dead_key = self.key("updates", "dead")
        pipe = self._redis.pipeline(transaction=True)
        pipe.lpush(dead_key, dumps(dead))
        pipe.ltrim(dead_key, 0, DEAD_UPDATES_KEPT - 1)
        pipe.xack(stream, GROUP, entry_id)
        pipe.xdel(stream, entry_id)
        pipe.execute()
        return True

    def keep_updates(self, consumer: str, entry_ids: Sequence[str]) -> None:
        """Reset the entries' idle time (JUSTID: their delivery count stays as it is)."""
        if not entry_ids:
            return
        with translated_errors():
            self._redis.xclaim(
                self.key("updates"), GROUP, consumer, 0, list(entry_ids), justid=True
            )

    def ack_update(self, entry_id: str) -> None:
        """Handled: acknowledge and delete the entry."""
        stream = self.key("updates")
        with translated_errors():
            pipe = self._redis.pipeline(transaction=True)
            pipe.xack(stream, GROUP, entry_id)
            pipe.xdel(stream, entry_id)
            pipe.execute()

    def count_inbound(self, user_id: int, window_seconds: int) -> int:
        """A counter per user and fixed window, shared by every worker."""
        window = int(time.time()) // window_seconds
        key = self.key("inbound", user_id, window)
        with translated_errors():
            pipe = self._redis.pipeline(transaction=True)
            pipe.incr(key)
            pipe.expire(key, 2 * window_seconds)
            counted, _ = pipe.execute()
        return int(counted)

    def dead_update_count(self) -> int:
        """Updates set aside (the newest DEAD_UPDATES_KEPT are kept)."""
        with translated_errors():
            return int(self._redis.llen(self.key("updates", "dead")))

    def dead_updates(self) -> list[dict[str, Any]]:
        """The updates set aside, newest first (for an administrator to look into)."""
        with translated_errors():
            raw = self._redis.lrange(self.key("updates", "dead"), 0, -1)
        return [json.loads(item) for item in raw]

    def polling_offset(self) -> int | None:
        """The next getUpdates offset, shared so a new polling leader goes on from there."""
        with translated_errors():
            value = self._redis.get(self.key("updates", "offset"))
        return None if value is None else int(value)

    def set_polling_offset(self, offset: int) -> None:
        """Remember the next getUpdates offset."""
        with translated_errors():
            self._redis.set(self.key("updates", "offset"), offset)

    def queued_updates(self) -> int:
        """Updates stored and not yet handled (for /status)."""
        with translated_errors():
            return int(self._redis.xlen(self.key("updates")))


class RedisRateLimiter:
    """Token buckets in Redis, so every process sending for the bot shares one budget.

    Defaults keep a margin under Telegram's guidance (about 30 messages a second per bot, about
    one a second per chat, short bursts): we count a message when it starts, Telegram when it
    arrives, and uploads take varying time, so arrivals bunch. The margin is in the burst (10
    messages, a third of a second's 30) more than in the rate: 29.5 a second is 98 % of the
    ceiling. A burst of 10 lets senders catch up after a stall of up to a third of a second (a
    slow upload, a busy core); with 5, a run lost up to 2 % of its pace in such pauses.
    """

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        *,
        per_second: float = 29.5,
        burst: float = 10.0,
        per_chat_per_second: float = 1.0,
        chat_burst: float = 2.0,
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._limits = (per_second, burst, per_chat_per_second, chat_burst)
        self._take = client.register_script(_TAKE)

    def acquire(self, chat_id: int) -> float:
        """Seconds to wait; 0 when the message may go now."""
        keys = [
            f"{self._prefix}rate:global",
            f"{self._prefix}rate:chat:{chat_id}",
            f"{self._prefix}rate:pause",
        ]
        now_ms = int(time.time() * 1000)
        with translated_errors():
            wait_ms = self._take(keys=keys, args=[now_ms, *self._limits])
        return int(wait_ms) / 1000

    def pause(self, seconds: float) -> None:
        """Hold every sender back for `seconds` (Telegram said retry_after)."""
        until = int((time.time() + seconds) * 1000)
        with translated_errors():
            self._redis.set(f"{self._prefix}rate:pause", until, px=int(seconds * 1000) + 1000)


def dumps(payload: object) -> str:
    """JSON for the queue (Cyrillic kept readable)."""
    return json.dumps(payload, ensure_ascii=False)
