"""Coordination of several gateway processes on Redis: leader locks, replay guards, sync
requests, the durable update queue, and Telegram's flood limits shared by every sender.

Keys (after the prefix):
  leader:<role>         string  owner id of the lock (expires; renewed by its owner)
  seen:<token>          string  a push signature or webhook update id already used (expires)
  sync:requests         list    task ids 1C pushed, for the sync leader (FULL_PASS "*": a full pass)
  updates               stream  Telegram updates (JSON) not yet handled, consumer group `workers`
  updates:offset        string  the next getUpdates offset of the polling leader
  updates:dead          list    updates set aside after failing MAX_UPDATE_DELIVERIES times (JSON)
  inbound:<user>:<n>    string  updates from one Telegram user in window n (expires)
  rate:global, rate:chat:<id>  token buckets
  rate:sends, rate:sends:<chat id>  zset, recent sends (the bot's, a chat's), scored by end
  rate:pause            string  "send nothing until" (ms)
  rate:pace             hash    the slow-down after a 429 (factor, since when)
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

import redis

from adapters.redis_store.connection import SOCKET_TIMEOUT_SECONDS, PrefixedRedis, translated_errors
from gateway.ports.storage import FULL_PASS

log = logging.getLogger(__name__)

GROUP: Final = "workers"
STALE_UPDATE_MS: Final = 60_000  # an update a consumer held this long without ack is retaken
# Taken this often without an ack (its handling raised, or killed the worker, each time): the
# next take sets it aside instead of handing it out again.
MAX_UPDATE_DELIVERIES: Final = 3
DEAD_UPDATES_KEPT: Final = 1000
SEEN_UPDATE_SECONDS: Final = 24 * 3600  # Telegram redelivers an unconfirmed update for a day

# Telegram's flood limits as it documents them: about 30 messages a second per bot, about one a
# second per chat (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
TELEGRAM_PER_SECOND: Final = 30
TELEGRAM_PER_CHAT_PER_SECOND: Final = 1.0
TELEGRAM_WINDOW_MS: Final = 1000
# Sends let through at once before the bot's bucket paces them: 10 spread the relay best of
# 5, 10 and 30 (bench (a), strict mode, full sizes: 28.66, 29.29 and 28.92 msg/s).
BOT_BURST: Final = 10.0
# A send whose answer has not come counts as in flight for at most this long (its process may
# have died), and a sender held back by sends in flight looks again after IN_FLIGHT_POLL_MS.
IN_FLIGHT_BOUND_MS: Final = 60_000
IN_FLIGHT_POLL_MS: Final = 10
# After a 429: the pace falls to this share of itself (not below MIN_PACE) and comes back by
# PACE_RECOVERY_PER_SECOND (from 75 % to full in 25 s).
SLOW_DOWN_FACTOR: Final = 0.75
MIN_PACE: Final = 0.25
PACE_RECOVERY_PER_SECOND: Final = 0.01

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
# Telegram's flood limits, taken together or not at all. Returns milliseconds to wait; 0 means
# the send may start and was counted.
#
# KEYS[4] (the bot's) and KEYS[5] (the chat's) are sorted sets of sends scored by when each
# ended (its answer came) or, while in flight, by its start plus ARGV[10] ms. A send counts in a
# window from its start until ARGV[7] ms (the bot's) / ARGV[9] ms (a chat's) after its end:
# Telegram counts it on arrival, some time between the two, so at most ARGV[6] sends (one for a
# chat) counted this way means at most that many arrivals in any window, however the arrivals
# spread. Token buckets (KEYS[1], KEYS[2]) can pace on top; a pause (KEYS[3]) after a 429 stops
# everyone, and the pace factor (KEYS[6]) a 429 lowers widens the windows and slows the buckets
# until time (ARGV[11] a second) restores it.
_TAKE = """
local now = tonumber(ARGV[1])
local pause = tonumber(redis.call('GET', KEYS[3]) or '0')
if pause > now then return pause - now end
local pace = 1
local slow = redis.call('HMGET', KEYS[6], 'factor', 'at')
if slow[1] then
  pace = math.min(1, tonumber(slow[1]) + (now - tonumber(slow[2])) * tonumber(ARGV[11]) / 1000)
  if pace >= 1 then redis.call('DEL', KEYS[6]) end
end
local function bucket(key, rate, burst)
  if rate <= 0 then return 0, nil end
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1] or burst)
  local at = tonumber(state[2] or now)
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  if tokens < 1 then return math.ceil((1 - tokens) * 1000 / rate), tokens end
  return 0, tokens
end
local function window(key, count, span)
  if count <= 0 or span <= 0 then return 0 end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  local n = redis.call('ZCARD', key)
  if n < count then return 0 end
  local ends = tonumber(redis.call('ZRANGE', key, n - count, n - count, 'WITHSCORES')[2])
  -- A send still in flight leaves a window after its answer, which may come any moment.
  if ends > now then return tonumber(ARGV[12]) end
  return math.max(1, math.ceil(ends + span - now))
end
local g_rate, g_burst = tonumber(ARGV[2]) * pace, tonumber(ARGV[3])
local c_rate, c_burst = tonumber(ARGV[4]) * pace, tonumber(ARGV[5])
local g_count, g_span = tonumber(ARGV[6]), tonumber(ARGV[7]) / pace
local c_count, c_span = tonumber(ARGV[8]), tonumber(ARGV[9]) / pace
local g_wait, g_tokens = bucket(KEYS[1], g_rate, g_burst)
local c_wait, c_tokens = bucket(KEYS[2], c_rate, c_burst)
local wait = math.max(g_wait, c_wait, window(KEYS[4], g_count, g_span),
  window(KEYS[5], c_count, c_span))
if wait > 0 then return wait end
if g_rate > 0 then
  redis.call('HSET', KEYS[1], 'tokens', g_tokens - 1, 'at', now)
  redis.call('PEXPIRE', KEYS[1], 60000)
end
if c_rate > 0 then
  redis.call('HSET', KEYS[2], 'tokens', c_tokens - 1, 'at', now)
  redis.call('PEXPIRE', KEYS[2], 60000)
end
local in_flight = now + tonumber(ARGV[10])
if g_count > 0 and g_span > 0 then
  redis.call('ZADD', KEYS[4], in_flight, ARGV[13])
  redis.call('PEXPIRE', KEYS[4], math.ceil(tonumber(ARGV[10]) + g_span))
end
if c_count > 0 and c_span > 0 then
  redis.call('ZADD', KEYS[5], in_flight, ARGV[13])
  redis.call('PEXPIRE', KEYS[5], math.ceil(tonumber(ARGV[10]) + c_span))
end
return 0
"""
# A send's answer came at ARGV[1]: it counts until then plus the window, no longer until its
# in-flight bound (XX: a send the log already dropped stays dropped).
_ENDED = """
redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], 'XX', ARGV[1], ARGV[2])
return 0
"""
# A 429: every sender stops until ARGV[1] + ARGV[2] ms, and the pace drops to ARGV[3] times
# what it is now (never under ARGV[4]); the take script brings it back at ARGV[5] a second.
_SLOW_DOWN = """
local now = tonumber(ARGV[1])
redis.call('SET', KEYS[1], now + tonumber(ARGV[2]), 'PX', tonumber(ARGV[2]) + 1000)
local pace = 1
local slow = redis.call('HMGET', KEYS[2], 'factor', 'at')
if slow[1] then
  pace = math.min(1, tonumber(slow[1]) + (now - tonumber(slow[2])) * tonumber(ARGV[5]) / 1000)
end
pace = math.max(tonumber(ARGV[4]), pace * tonumber(ARGV[3]))
redis.call('HSET', KEYS[2], 'factor', pace, 'at', now)
redis.call('PEXPIRE', KEYS[2], math.ceil((1 - pace) * 1000 / tonumber(ARGV[5])) + 60000)
return tostring(pace)
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
        """Queue task ids for the sync leader (FULL_PASS when 1C named none)."""
        with translated_errors():
            self._redis.rpush(self.key("sync", "requests"), *(list(task_ids) or [FULL_PASS]))

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


class RedisRateLimiter(PrefixedRedis):
    """Telegram's flood limits in Redis, so every process sending for the bot shares one budget.

    Telegram counts a message when it arrives, which is some time between the start of our call
    and its answer: uploads of different sizes and a busy core spread arrivals by tens of
    milliseconds, so counting starts alone lets 31 arrivals fall within one second (with 30 a
    second and a burst of 10, a strict Telegram answered 17 × 429 in a relay of 300 cards). So a
    send counts from its start until one second after its answer: at most TELEGRAM_PER_SECOND
    sends counted so (one per chat) is at most that many arrivals in ANY second, whichever way
    Telegram counts, with no margin to guess. The price is the call's own duration: 30 sends per
    (1 s + a call), about 29.5 a second on a near Telegram. A stall is caught up at once, as far
    as the window allows. Token buckets pace on top: the bot's at 30 a second with bursts of
    BOT_BURST, so sends do not bunch into the calls at once (a bunched call takes longer, and
    its duration is what the window costs); a chat's at one a second, no burst.

    A 429 can still come (another bot on the same token, a Telegram counting yet another way):
    every sender pauses for its `retry_after`, and the pace falls to SLOW_DOWN_FACTOR of itself
    (windows widen, rates fall), coming back by PACE_RECOVERY_PER_SECOND; each 429 in a row
    slows it further, down to MIN_PACE, so the senders settle under what Telegram allows.

    `acquire` and `ended` pair up per thread: the thread that was let send tells when its
    answer came.
    """

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        *,
        per_second: float = TELEGRAM_PER_SECOND,
        burst: float = BOT_BURST,
        per_chat_per_second: float = TELEGRAM_PER_CHAT_PER_SECOND,
        chat_burst: float = 1.0,
        window_count: int = TELEGRAM_PER_SECOND,
    ) -> None:
        super().__init__(client, prefix)
        bot_on, chat_on = per_second > 0, per_chat_per_second > 0
        self._limits: tuple[float, ...] = (
            per_second,
            burst,
            per_chat_per_second,
            chat_burst,
            window_count if bot_on else 0,
            TELEGRAM_WINDOW_MS,
            1 if chat_on else 0,
            int(1000 / per_chat_per_second) if chat_on else 0,
            IN_FLIGHT_BOUND_MS,
        )
        self._take = client.register_script(_TAKE)
        self._ended = client.register_script(_ENDED)
        self._slow_down = client.register_script(_SLOW_DOWN)
        self._sending = threading.local()

    def _key(self, *parts: object) -> str:
        return self._prefix + ":".join(str(p) for p in ("rate", *parts))

    def acquire(self, chat_id: int) -> float:
        """Seconds to wait; 0 when the message may go now (it is counted until `ended`)."""
        keys = [
            self._key("global"),
            self._key("chat", chat_id),
            self._key("pause"),
            self._key("sends"),
            self._key("sends", chat_id),
            self._key("pace"),
        ]
        now_ms = int(time.time() * 1000)
        send = f"{now_ms}:{secrets.token_hex(6)}"
        args: list[str | float] = [
            now_ms,
            *self._limits,
            PACE_RECOVERY_PER_SECOND,
            IN_FLIGHT_POLL_MS,
            send,
        ]
        with translated_errors():
            wait_ms = int(self._take(keys=keys, args=args))
        if wait_ms == 0:
            self._sending.current = (chat_id, send)
        return wait_ms / 1000

    def ended(self) -> None:
        """The send this thread was last let start has its answer (or failed): Telegram has
        counted it by now, if at all."""
        current = getattr(self._sending, "current", None)
        if current is None:
            return
        self._sending.current = None
        chat_id, send = current
        keys = [self._key("sends"), self._key("sends", chat_id)]
        with translated_errors():
            self._ended(keys=keys, args=[int(time.time() * 1000), send])

    def pause(self, seconds: float) -> None:
        """Telegram said 429, retry after `seconds`: every sender waits that long, then goes on
        slower for a while."""
        now_ms = int(time.time() * 1000)
        with translated_errors():
            pace = self._slow_down(
                keys=[self._key("pause"), self._key("pace")],
                args=[
                    now_ms,
                    int(seconds * 1000),
                    SLOW_DOWN_FACTOR,
                    MIN_PACE,
                    PACE_RECOVERY_PER_SECOND,
                ],
            )
        log.warning(
            "flood limits: pausing %g s, then at %.0f %% of the pace", seconds, float(pace) * 100
        )

    def pace(self) -> float:
        """The share of the full pace senders keep now (1 when no 429 came lately)."""
        with translated_errors():
            slow: Any = self._redis.hmget(self._key("pace"), ["factor", "at"])
        if slow[0] is None:
            return 1.0
        elapsed = time.time() * 1000 - float(slow[1])
        return min(1.0, float(slow[0]) + elapsed * PACE_RECOVERY_PER_SECOND / 1000)


def dumps(payload: object) -> str:
    """JSON for the queue (Cyrillic kept readable)."""
    return json.dumps(payload, ensure_ascii=False)
