"""The Store port on a real Redis: links and message mappings, keys under the prefix."""

from __future__ import annotations

import pytest
import redis

from adapters.redis_store import RedisStore, connect
from gateway.domain.records import MessageRef, UserLink
from gateway.errors import UpstreamUnavailable
from tests.factories import make_link

URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def store(redis_prefix: str) -> RedisStore:
    return RedisStore(connect(URL), redis_prefix)


def link(tg: int, onec: str, name: str = "Иванова Мария Сергеевна") -> UserLink:
    return make_link(tg, onec, name=name)


def test_a_link_is_found_by_telegram_user_and_by_1c_user(store: RedisStore) -> None:
    store.save_link(link(1001, "user-a"))
    assert store.get_link(1001) == link(1001, "user-a")
    assert store.links_for_onec_user("user-a") == [link(1001, "user-a")]
    assert store.get_link(1002) is None


def test_relinking_to_another_1c_user_drops_the_old_reverse_entry(store: RedisStore) -> None:
    store.save_link(link(1001, "user-a"))
    store.save_link(link(1001, "user-b"))
    assert store.links_for_onec_user("user-a") == []
    assert store.links_for_onec_user("user-b") == [link(1001, "user-b")]


def test_a_second_account_linked_to_the_same_1c_user_replaces_the_first(
    store: RedisStore,
) -> None:
    store.save_link(link(1001, "user-a"))
    store.save_link(link(1002, "user-a"))
    assert store.get_link(1001) is None
    assert store.links_for_onec_user("user-a") == [link(1002, "user-a")]
    store.save_link(link(1002, "user-a"))  # the same account again: kept
    assert store.links_for_onec_user("user-a") == [link(1002, "user-a")]


def test_deleting_a_link_removes_both_directions(store: RedisStore) -> None:
    store.save_link(link(1001, "user-a"))
    store.delete_link(1001)
    store.delete_link(1001)  # again: nothing to do, no error
    assert store.get_link(1001) is None
    assert store.links_for_onec_user("user-a") == []


def test_messages_are_keyed_by_chat_and_message_id(store: RedisStore) -> None:
    """Message ids repeat across chats, so the same id in two chats maps to two tasks."""
    store.remember_message(MessageRef(1001, 7), "task-1")
    store.remember_message(MessageRef(1002, 7), "task-2")
    store.remember_message(MessageRef(1003, 9), "task-1")
    assert store.task_for_message(MessageRef(1001, 7)) == "task-1"
    assert store.task_for_message(MessageRef(1002, 7)) == "task-2"
    assert store.task_for_message(MessageRef(1002, 8)) is None
    assert store.messages_for_task("task-1") == [MessageRef(1001, 7), MessageRef(1003, 9)]


def test_every_key_starts_with_the_prefix(store: RedisStore, redis_prefix: str) -> None:
    store.save_link(link(1001, "user-a"))
    store.remember_message(MessageRef(1001, 7), "task-1")
    raw = redis.Redis.from_url(URL, decode_responses=True)
    keys = sorted(raw.scan_iter(match=redis_prefix + "*"))
    raw.close()
    assert [k.removeprefix(redis_prefix) for k in keys] == [
        "link:onec:user-a",
        "link:tg:1001",
        "msg:1001:7",
        "task:msgs:task-1",
    ]


def test_an_unreachable_redis_is_an_upstream_failure() -> None:
    store = RedisStore(connect("redis://127.0.0.1:1/0"), "tg1c-test:")
    with pytest.raises(UpstreamUnavailable) as caught:
        store.ping()
    assert caught.value.upstream == "Redis"
    with pytest.raises(UpstreamUnavailable):
        store.get_link(1)
