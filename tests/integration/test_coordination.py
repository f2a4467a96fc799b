"""Coordination on a real Redis: leader locks, replay guards, sync requests, the update queue,
and the shared flood limits."""

from __future__ import annotations

import time

import pytest
import redis

from adapters.redis_store import RedisRateLimiter, RedisStore, connect, coordination

URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def store(redis_prefix: str) -> RedisStore:
    return RedisStore(connect(URL), redis_prefix)


def test_one_owner_holds_a_lock_until_it_releases_it(store: RedisStore) -> None:
    assert store.acquire_leadership("sync", "worker-a", 5)
    assert store.acquire_leadership("sync", "worker-a", 5)  # renewal
    assert not store.acquire_leadership("sync", "worker-b", 5)
    assert store.leader("sync") == "worker-a"
    store.release_leadership("sync", "worker-b")  # not b's to release
    assert store.leader("sync") == "worker-a"
    store.release_leadership("sync", "worker-a")
    assert store.acquire_leadership("sync", "worker-b", 5)


def test_a_lock_whose_owner_died_expires(store: RedisStore) -> None:
    assert store.acquire_leadership("sync", "worker-a", 0.2)
    time.sleep(0.3)
    assert store.acquire_leadership("sync", "worker-b", 5)


def test_a_token_is_accepted_once(store: RedisStore) -> None:
    assert store.first_use("push:abc", 60)
    assert not store.first_use("push:abc", 60)


def test_sync_requests_are_merged_and_none_means_a_full_pass(store: RedisStore) -> None:
    assert store.wait_sync_request(0.05) is None
    store.request_sync(["t-1", "t-2"])
    store.request_sync(["t-2", "t-3"])
    assert store.wait_sync_request(1) == ["t-1", "t-2", "t-3"]
    store.request_sync([])
    assert store.wait_sync_request(1) == ["*"]


def test_an_update_is_queued_once_and_gone_after_its_ack(store: RedisStore) -> None:
    assert store.push_update(101, '{"update_id": 101}')
    assert not store.push_update(101, '{"update_id": 101}')  # Telegram redelivered it
    taken = store.take_updates("worker-a", 0.1, 10)
    assert [payload for _, payload in taken] == ['{"update_id": 101}']
    store.ack_update(taken[0][0])
    assert store.take_updates("worker-a", 0.1, 10) == []
    assert store.queued_updates() == 0


def test_an_update_a_dead_worker_held_is_taken_over(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(coordination, "STALE_UPDATE_MS", 100)
    store.push_update(7, '{"update_id": 7}')
    assert len(store.take_updates("worker-a", 0.1, 10)) == 1  # then worker-a dies
    assert store.take_updates("worker-b", 0.05, 10) == []  # not yet stale
    time.sleep(0.15)
    taken = store.take_updates("worker-b", 0.05, 10)
    assert [payload for _, payload in taken] == ['{"update_id": 7}']


def test_an_update_taken_too_often_without_an_ack_is_set_aside_for_the_admins(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(coordination, "STALE_UPDATE_MS", 50)
    store.push_update(8, '{"update_id": 8}')
    for _ in range(coordination.MAX_UPDATE_DELIVERIES):
        taken = wait_take(store)
        assert [payload for _, payload in taken] == ['{"update_id": 8}']  # handling fails
    time.sleep(0.06)
    assert store.take_updates("worker-a", 0.05, 10) == []
    assert store.queued_updates() == 0
    assert store.dead_update_count() == 1
    [dead] = store.dead_updates()
    assert dead["payload"] == '{"update_id": 8}'
    assert dead["attempts"] == coordination.MAX_UPDATE_DELIVERIES


def wait_take(store: RedisStore) -> list[tuple[str, str]]:
    """Take again once the entry is stale (the first take reads it new)."""
    for _ in range(100):
        taken = store.take_updates("worker-a", 0.01, 10)
        if taken:
            return taken
        time.sleep(0.01)
    raise AssertionError("the update was not taken again")


def test_an_update_a_live_worker_keeps_is_not_taken_over(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(coordination, "STALE_UPDATE_MS", 100)
    store.push_update(9, '{"update_id": 9}')
    [(entry_id, _)] = store.take_updates("worker-a", 0.1, 10)
    time.sleep(0.07)
    store.keep_updates("worker-a", [entry_id])
    time.sleep(0.07)
    assert store.take_updates("worker-b", 0.01, 10) == []


def test_no_unhandled_update_is_trimmed_however_many_wait(store: RedisStore) -> None:
    store.push_update(1, '{"update_id": 1}')
    [(first, _)] = store.take_updates("worker-a", 0.1, 1)  # taken, its handling still going on
    raw = redis.Redis.from_url(URL, decode_responses=True)
    stream = store.key("updates")
    for start in range(2, 100_502, 10_000):  # 100 500 more queued, written in bulk for speed
        pipe = raw.pipeline(transaction=False)
        for update_id in range(start, min(start + 10_000, 100_502)):
            pipe.xadd(stream, {"update_id": update_id, "payload": "{}"})
        pipe.execute()
    store.push_update(100_502, '{"update_id": 100502}')
    assert store.queued_updates() == 100_502
    assert raw.xrange(stream, first, first)  # the oldest, unacknowledged, is still there
    raw.close()
    store.ack_update(first)
    assert store.queued_updates() == 100_501


def test_inbound_updates_are_counted_per_user(store: RedisStore) -> None:
    assert [store.count_inbound(5, 60) for _ in range(3)] == [1, 2, 3]
    assert store.count_inbound(6, 60) == 1


def test_the_polling_offset_is_shared(store: RedisStore) -> None:
    assert store.polling_offset() is None
    store.set_polling_offset(42)
    assert store.polling_offset() == 42


def test_the_rate_limiter_allows_a_burst_then_spaces_sends(redis_prefix: str) -> None:
    limiter = RedisRateLimiter(
        connect(URL), redis_prefix, per_second=10, burst=3, per_chat_per_second=0, chat_burst=0
    )
    assert [limiter.acquire(1) for _ in range(3)] == [0, 0, 0]
    wait = limiter.acquire(2)
    assert 0 < wait <= 0.1


def test_the_per_chat_limit_holds_one_chat_back_not_the_others(redis_prefix: str) -> None:
    limiter = RedisRateLimiter(
        connect(URL), redis_prefix, per_second=100, burst=100, per_chat_per_second=1, chat_burst=1
    )
    assert limiter.acquire(1) == 0
    assert limiter.acquire(1) > 0.5
    assert limiter.acquire(2) == 0


def test_a_pause_holds_every_sender_back(redis_prefix: str) -> None:
    limiter = RedisRateLimiter(connect(URL), redis_prefix)
    limiter.pause(2)
    assert 1.5 < limiter.acquire(1) <= 2
    assert 1.5 < limiter.acquire(99) <= 2


def window_limited(redis_prefix: str, window_count: int) -> RedisRateLimiter:
    """A limiter held back by its window of unanswered sends alone: a bot bucket too wide to
    matter, no per-chat limit."""
    return RedisRateLimiter(
        connect(URL),
        redis_prefix,
        per_second=100,
        burst=100,
        window_count=window_count,
        per_chat_per_second=0,
    )


def test_a_send_counts_in_the_window_until_a_second_after_its_answer(redis_prefix: str) -> None:
    limiter = window_limited(redis_prefix, window_count=3)
    for chat in (1, 2, 3):
        assert limiter.acquire(chat) == 0
        limiter.ended()
    wait = limiter.acquire(4)
    assert 0.5 < wait <= 1.0  # the first send's answer came a moment ago: a second from then


def test_a_send_in_flight_holds_its_place_until_its_answer_comes(redis_prefix: str) -> None:
    limiter = window_limited(redis_prefix, window_count=1)
    assert limiter.acquire(1) == 0  # no answer yet: Telegram may count it at any moment
    assert 0 < limiter.acquire(2) <= 0.01  # looked at again soon, not a second from the start
    limiter.ended()
    assert limiter.acquire(2) > 0.5


def test_a_chat_gets_its_next_message_a_second_after_the_last_ones_answer(
    redis_prefix: str,
) -> None:
    limiter = RedisRateLimiter(connect(URL), redis_prefix)
    assert limiter.acquire(1) == 0
    limiter.ended()
    assert 0.5 < limiter.acquire(1) <= 1.0
    assert limiter.acquire(2) == 0


def test_a_429_pauses_everyone_then_slows_the_pace_more_with_each_one(redis_prefix: str) -> None:
    limiter = RedisRateLimiter(connect(URL), redis_prefix, window_count=1, per_chat_per_second=0)
    assert limiter.pace() == 1.0
    limiter.pause(0.05)
    assert 0.74 < limiter.pace() <= 0.76
    limiter.pause(0.05)
    assert 0.56 < limiter.pace() <= 0.57
    time.sleep(0.06)
    assert limiter.acquire(1) == 0
    limiter.ended()
    assert limiter.acquire(2) > 1.1  # the one-second window is 1 / 0.5625 s wide now


def test_every_coordination_key_carries_the_prefix(store: RedisStore, redis_prefix: str) -> None:
    store.acquire_leadership("sync", "a", 5)
    store.push_update(1, "{}")
    store.request_sync(["t"])
    raw = redis.Redis.from_url(URL, decode_responses=True)
    keys = set(raw.scan_iter(match="*"))
    mine = {k for k in keys if k.startswith(redis_prefix)}
    raw.close()
    assert {k.removeprefix(redis_prefix) for k in mine} >= {
        "leader:sync",
        "updates",
        "sync:requests",
    }
