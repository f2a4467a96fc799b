"""The in-memory store of tests/fakes.py keeps the Redis store's promises: the same checks run
on both, so a unit test on the fake shows what the flow does on Redis."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from adapters.redis_store import RedisStore, connect
from gateway.domain.records import MessageRef
from gateway.domain.tasks import Decision
from gateway.ports.storage import Store
from tests.factories import (
    make_delivery,
    make_entry,
    make_link,
    make_prompt,
    make_request,
    make_task,
)
from tests.fakes import InMemoryStore

URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "memory":
        yield InMemoryStore()
        return
    prefix = request.getfixturevalue("redis_prefix")
    yield RedisStore(connect(URL), prefix)


# --- links and messages ---------------------------------------------------------------------------


def test_a_1c_user_keeps_one_telegram_account_and_a_relink_moves_the_reverse_entry(
    store: Store,
) -> None:
    store.save_link(make_link(501, "onec-a"))
    store.save_link(make_link(502, "onec-a"))
    assert store.get_link(501) is None
    assert [link.telegram_user_id for link in store.links_for_onec_user("onec-a")] == [502]
    store.save_link(make_link(502, "onec-b"))
    assert store.links_for_onec_user("onec-a") == []
    store.save_link(make_link(400, "onec-c"))
    assert [link.telegram_user_id for link in store.all_links()] == [400, 502]
    store.delete_link(502)
    store.delete_link(502)  # unlinking twice is no error
    assert [link.onec_user_id for link in store.all_links()] == ["onec-c"]


def test_messages_are_found_by_chat_and_message_id_and_listed_in_order(store: Store) -> None:
    store.remember_message(MessageRef(2, 7), "task-1")
    store.remember_message(MessageRef(1, 9), "task-1")
    store.remember_message(MessageRef(1, 7), "task-2")
    assert store.task_for_message(MessageRef(1, 9)) == "task-1"
    assert store.task_for_message(MessageRef(9, 9)) is None
    assert store.messages_for_task("task-1") == [MessageRef(1, 9), MessageRef(2, 7)]


# --- cards ----------------------------------------------------------------------------------------


def test_a_card_version_is_claimed_once_and_a_saved_card_is_not_claimed_again(
    store: Store,
) -> None:
    task = make_task()
    assert store.claim_delivery(task.id, 200, task.version)
    assert not store.claim_delivery(task.id, 200, task.version)
    assert not store.claim_delivery(task.id, 200, "another")  # one sender per card at a time
    assert store.claim_delivery(task.id, 201, task.version)  # another chat
    store.save_delivery(make_delivery(task, 200))
    assert not store.claim_delivery(task.id, 200, task.version)
    assert store.claim_delivery(task.id, 200, "v2")  # a new version: the claim was released
    assert store.tracked_tasks() == {task.id}


def test_closing_the_last_card_stops_tracking_the_task_and_frees_its_claim(store: Store) -> None:
    task = make_task()
    store.save_delivery(make_delivery(task, 200))
    store.save_delivery(make_delivery(task, 201, message_id=77))
    assert [d.chat_id for d in store.deliveries_for_task(task.id)] == [200, 201]
    store.close_delivery(task.id, 200)
    assert store.tracked_tasks() == {task.id}
    store.close_delivery(task.id, 201)
    assert store.tracked_tasks() == set()
    assert store.get_delivery(task.id, 201) is None
    assert store.claim_delivery(task.id, 201, task.version)


def test_a_delivery_comes_back_as_saved(store: Store) -> None:
    delivery = replace(
        make_delivery(make_task(subject_version="AAAAAg=="), 200), deciding="approve"
    )
    store.save_delivery(delivery)
    assert store.get_delivery(delivery.task_id, 200) == delivery


# --- prompts, invites, admins, status ---------------------------------------------------------


def test_a_new_prompt_replaces_the_chats_earlier_one(store: Store) -> None:
    store.save_prompt(make_prompt(make_task("task-1"), 200))
    later = make_prompt(make_task("task-2"), 200, decision=Decision.RETURN_PREVIOUS)
    store.save_prompt(later)
    assert store.get_prompt(200) == later
    store.delete_prompt(200)
    assert store.get_prompt(200) is None


def test_an_invite_is_taken_once(store: Store) -> None:
    store.save_invite("code-1", 60)
    assert store.take_invite("code-1")
    assert not store.take_invite("code-1")
    assert not store.take_invite("never-made")


def test_group_admins_and_status_fields_are_replaced_and_cleared(store: Store) -> None:
    assert store.group_admins() == frozenset()
    store.save_group_admins(frozenset({"u-2", "u-1"}))
    assert store.group_admins() == {"u-1", "u-2"}
    store.set_status(last_sync="2026-11-27T10:00:00+03:00", onec_down_since="x")
    store.set_status(onec_down_since="")
    assert store.get_status() == {"last_sync": "2026-11-27T10:00:00+03:00"}


# --- coordination and updates ---------------------------------------------------------------------


def test_leadership_is_held_by_one_owner_and_released_only_by_it(store: Store) -> None:
    assert store.acquire_leadership("sync", "a", 30)
    assert store.acquire_leadership("sync", "a", 30)  # renewed
    assert not store.acquire_leadership("sync", "b", 30)
    store.release_leadership("sync", "b")
    assert store.leader("sync") == "a"
    store.release_leadership("sync", "a")
    assert store.leader("sync") is None
    assert store.acquire_leadership("sync", "b", 30)


def test_a_token_is_used_once_and_sync_requests_are_merged(store: Store) -> None:
    assert store.first_use("push-1", 60)
    assert not store.first_use("push-1", 60)
    assert store.wait_sync_request(0.05) is None
    store.request_sync(["t-1", "t-2"])
    store.request_sync(["t-2"])
    store.request_sync([])
    assert store.wait_sync_request(1) == ["t-1", "t-2", "*"]


def test_an_update_is_queued_once_taken_then_acknowledged(store: Store) -> None:
    assert store.push_update(10, '{"update_id": 10}')
    assert not store.push_update(10, '{"update_id": 10}')  # a redelivery
    assert store.push_update(11, '{"update_id": 11}')
    taken = store.take_updates("worker-1", 0.05, 10)
    assert [payload for _, payload in taken] == ['{"update_id": 10}', '{"update_id": 11}']
    assert store.take_updates("worker-2", 0.05, 10) == []  # handed out, not yet stale
    for entry_id, _ in taken:
        store.ack_update(entry_id)
    assert store.take_updates("worker-1", 0.05, 10) == []
    assert store.dead_update_count() == 0
    assert store.polling_offset() is None
    store.set_polling_offset(12)
    assert store.polling_offset() == 12
    assert [store.count_inbound(7, 60) for _ in range(3)][-1] == 3


# --- the outbox -----------------------------------------------------------------------------------


def test_an_entry_is_stored_once_and_due_in_the_order_of_its_time(store: Store) -> None:
    assert store.enqueue(make_entry(make_request(key="late"), next_at=200.0))
    assert store.enqueue(make_entry(make_request(key="early"), next_at=100.0))
    assert not store.enqueue(make_entry(make_request(key="early"), next_at=50.0))
    assert [e.id for e in store.due(150.0, 10)] == ["early"]
    assert [e.id for e in store.due(math.inf, 10)] == ["early", "late"]
    assert [e.id for e in store.due(math.inf, 1)] == ["early"]
    assert store.outbox_depth() == 2
    stored = store.get_entry("late")
    assert stored is not None and stored.next_at == 200.0
    assert stored.request == make_request(key="late")


def test_a_lease_keeps_other_workers_off_until_it_is_settled(store: Store) -> None:
    store.enqueue(make_entry(make_request(key="k"), next_at=100.0))
    assert store.claim("k", 99.0, 30) is None  # not due yet
    lease = store.claim("k", 100.0, 30)
    assert lease is not None
    assert store.claim("k", 100.0, 30) is None
    assert not store.complete("k", "someone-else")
    assert not store.reschedule("k", "someone-else", 1, 300.0, "x")
    assert store.reschedule("k", lease, 1, 300.0, "1C is unavailable")
    entry = store.get_entry("k")
    assert entry is not None and (entry.attempts, entry.next_at) == (1, 300.0)
    assert entry.last_error == "1C is unavailable"
    again = store.claim("k", 300.0, 30)
    assert again is not None and store.complete("k", again)
    assert store.get_entry("k") is None and store.outbox_depth() == 0


def test_an_expired_lease_is_taken_over_and_the_old_holder_is_refused(store: Store) -> None:
    store.enqueue(make_entry(make_request(key="k")))
    first = store.claim("k", time.time(), 0.05)
    assert first is not None
    time.sleep(0.15)
    second = store.claim("k", time.time(), 30)
    assert second is not None
    assert not store.complete("k", first)
    assert store.release("k", second)
    assert store.complete("k", first)  # expired, but nobody holds the entry now


def test_a_dead_entry_is_kept_apart_retried_or_dropped(store: Store) -> None:
    store.enqueue(make_entry(make_request(key="k")))
    lease = store.claim("k", math.inf, 30)
    assert lease is not None and store.dead_letter("k", lease, "1C refused: 400")
    assert (store.outbox_depth(), store.dead_letter_count()) == (0, 1)
    [dead] = store.dead(10)
    assert (dead.id, dead.last_error) == ("k", "1C refused: 400")
    assert store.retry_entry("k", 500.0)
    entry = store.get_entry("k")
    assert entry is not None and (entry.attempts, entry.next_at) == (0, 500.0)
    assert (store.outbox_depth(), store.dead_letter_count()) == (1, 0)
    held = store.claim("k", 500.0, 30)
    assert held is not None
    assert not store.drop_entry("k") and not store.retry_entry("k", 1.0)  # a worker holds it
    assert store.release("k", held)
    assert store.drop_entry("k") and not store.drop_entry("k")


def test_retry_now_makes_waiting_entries_due_in_the_order_they_waited(store: Store) -> None:
    for key, at in (("b", 300.0), ("a", 200.0), ("now", 50.0)):
        store.enqueue(make_entry(make_request(key=key), next_at=at))
    assert store.retry_now(100.0) == 2
    assert [e.id for e in store.due(100.0, 10)] == ["now", "a", "b"]
