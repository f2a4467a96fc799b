"""The decision outbox on a real Redis: one-step enqueue, leases that only their owner uses."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from adapters.redis_store import RedisStore, connect
from gateway.domain.records import OutboxEntry
from tests.factories import make_entry, make_request

URL = "redis://127.0.0.1:6379/0"
NOW = 1_800_000_000.0


@pytest.fixture
def store(redis_prefix: str) -> RedisStore:
    return RedisStore(connect(URL), redis_prefix)


def entry(key: str = "tg-press-1", next_at: float = NOW) -> OutboxEntry:
    return make_entry(make_request(key=key, chat_id=7, message_id=42), next_at=next_at)


def test_an_enqueued_decision_is_due_at_once_and_a_repeated_press_is_refused(
    store: RedisStore,
) -> None:
    assert store.enqueue(entry())
    assert not store.enqueue(entry())
    assert [e.id for e in store.due(NOW, 10)] == ["tg-press-1"]
    assert store.outbox_depth() == 1


def test_an_entry_left_half_written_by_the_old_two_step_enqueue_is_repaired_by_the_next_press(
    store: RedisStore,
) -> None:
    """The old enqueue wrote the request first and made it due in a second step; a crash in
    between left an entry that was never due and refused every later press."""
    assert store.enqueue(entry())
    store._redis.zrem(store.key("outbox", "due"), "tg-press-1")
    assert store.due(NOW, 10) == []
    assert store.enqueue(entry())
    assert [e.id for e in store.due(NOW, 10)] == ["tg-press-1"]


def test_a_dead_lettered_decision_is_not_queued_again_by_a_repeated_press(
    store: RedisStore,
) -> None:
    store.enqueue(entry())
    lease = store.claim("tg-press-1", NOW, 60)
    assert lease and store.dead_letter("tg-press-1", lease, "1C unavailable")
    assert not store.enqueue(entry())
    assert store.due(NOW, 10) == [] and store.dead_letter_count() == 1


def test_a_leased_entry_is_not_claimed_by_another_worker_until_the_lease_expires(
    store: RedisStore,
) -> None:
    store.enqueue(entry())
    first = store.claim("tg-press-1", NOW, 0.3)
    assert first is not None
    assert store.claim("tg-press-1", NOW, 60) is None
    time.sleep(0.4)
    second = store.claim("tg-press-1", NOW, 60)
    assert second is not None and second != first


def test_a_worker_that_lost_its_lease_changes_nothing(store: RedisStore) -> None:
    store.enqueue(entry())
    stale = store.claim("tg-press-1", NOW, 0.2)
    assert stale is not None
    time.sleep(0.3)
    current = store.claim("tg-press-1", NOW, 60)
    assert current is not None
    assert not store.complete("tg-press-1", stale)
    assert not store.reschedule("tg-press-1", stale, 5, NOW + 600, "late")
    assert not store.dead_letter("tg-press-1", stale, "late")
    assert not store.release("tg-press-1", stale)
    kept = store.get_entry("tg-press-1")
    assert kept is not None and kept.attempts == 0 and kept.next_at == NOW
    assert store.claim("tg-press-1", NOW, 60) is None  # still the current holder's
    assert store.complete("tg-press-1", current)
    assert store.get_entry("tg-press-1") is None and store.outbox_depth() == 0


def test_a_worker_whose_lease_expired_unclaimed_still_settles_its_entry(
    store: RedisStore,
) -> None:
    """A write to 1C slower than the lease: nobody took the entry over, so its answer counts."""
    store.enqueue(entry())
    lease = store.claim("tg-press-1", NOW, 0.2)
    assert lease is not None
    time.sleep(0.3)
    assert store.complete("tg-press-1", lease)
    assert store.outbox_depth() == 0
    assert not store.complete("tg-press-1", lease)  # gone: nothing more to settle


def test_an_expired_lease_cannot_touch_an_entry_another_worker_dead_lettered(
    store: RedisStore,
) -> None:
    store.enqueue(entry())
    stale = store.claim("tg-press-1", NOW, 0.2)
    time.sleep(0.3)
    current = store.claim("tg-press-1", NOW, 60)
    assert stale and current and store.dead_letter("tg-press-1", current, "gave up")
    assert not store.reschedule("tg-press-1", stale, 1, NOW + 5, "late")
    assert store.due(NOW + 5, 10) == [] and store.dead_letter_count() == 1


def test_rescheduling_releases_the_lease_and_the_entry_waits_for_its_time(
    store: RedisStore,
) -> None:
    store.enqueue(entry())
    lease = store.claim("tg-press-1", NOW, 60)
    assert lease and store.reschedule("tg-press-1", lease, 1, NOW + 30, "1C unavailable")
    assert store.due(NOW, 10) == []
    assert store.claim("tg-press-1", NOW, 60) is None  # not due yet
    [waiting] = store.due(NOW + 30, 10)
    assert (waiting.attempts, waiting.last_error) == (1, "1C unavailable")
    assert store.claim("tg-press-1", NOW + 30, 60) is not None


def test_a_released_entry_is_due_again_unchanged(store: RedisStore) -> None:
    store.enqueue(entry())
    lease = store.claim("tg-press-1", NOW, 60)
    assert lease and store.release("tg-press-1", lease)
    assert store.claim("tg-press-1", NOW, 60) is not None


def test_a_completed_entry_cannot_be_claimed_from_a_stale_list_of_due_entries(
    store: RedisStore,
) -> None:
    store.enqueue(entry())
    [listed] = store.due(NOW, 10)
    lease = store.claim(listed.id, NOW, 60)
    assert lease and store.complete(listed.id, lease)
    assert store.claim(listed.id, NOW, 60) is None


def test_retry_now_makes_every_waiting_entry_due_in_the_order_they_waited(
    store: RedisStore,
) -> None:
    for n, delay in enumerate([300, 100, 200]):
        store.enqueue(replace(entry(f"tg-press-{n}"), next_at=NOW + delay))
    store.enqueue(entry("tg-press-due"))
    assert store.retry_now(NOW) == 3
    due = [e.id for e in store.due(NOW, 10)]
    assert sorted(due) == ["tg-press-0", "tg-press-1", "tg-press-2", "tg-press-due"]
    assert [i for i in due if i != "tg-press-due"] == ["tg-press-1", "tg-press-2", "tg-press-0"]
    assert store.retry_now(NOW) == 0


def test_a_decision_keeps_the_versions_its_card_showed(store: RedisStore) -> None:
    shown = replace(
        entry().request, expected_version="AAAAAQ==.AAAAAg==", expected_subject_version="AAAAAg=="
    )
    store.enqueue(replace(entry(), request=shown))
    [loaded] = store.due(NOW, 10)
    assert loaded.request == shown


def test_an_entry_queued_before_decisions_carried_versions_still_loads(
    store: RedisStore,
) -> None:
    store.enqueue(entry())
    key = store.key("outbox", "entry", "tg-press-1")
    text = store._redis.hget(key, "request")
    assert text is not None
    raw = json.loads(text)
    del raw["expected_version"], raw["expected_subject_version"]
    store._redis.hset(key, "request", json.dumps(raw, ensure_ascii=False))
    [loaded] = store.due(NOW, 10)
    assert loaded.request == entry().request
    assert (loaded.request.expected_version, loaded.request.expected_subject_version) == ("", "")


def test_a_decision_keeps_the_telegram_account_that_pressed(store: RedisStore) -> None:
    named = replace(entry().request, telegram_user_id=700123, telegram_user_name="@morozov")
    store.enqueue(replace(entry(), request=named))
    [loaded] = store.due(NOW, 10)
    assert (loaded.request.telegram_user_id, loaded.request.telegram_user_name) == (
        700123,
        "@morozov",
    )


def test_an_entry_queued_before_decisions_carried_the_telegram_name_still_loads(
    store: RedisStore,
) -> None:
    store.enqueue(replace(entry(), request=replace(entry().request, telegram_user_id=700123)))
    key = store.key("outbox", "entry", "tg-press-1")
    text = store._redis.hget(key, "request")
    assert text is not None
    raw = json.loads(text)
    del raw["telegram_user_name"]
    store._redis.hset(key, "request", json.dumps(raw, ensure_ascii=False))
    [loaded] = store.due(NOW, 10)
    assert (loaded.request.telegram_user_id, loaded.request.telegram_user_name) == (700123, "")
