"""`links list|revoke` and `outbox list|retry|drop` as an administrator runs them, on real Redis.

The commands run as processes in a clean environment (the `runner` fixture); the state they
read and change is written and checked through the Redis adapter under the test's prefix.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from adapters.redis_store import RedisStore, connect
from gateway.bootstrap import namespace
from gateway.domain.records import OutboxEntry, UserLink
from tests.factories import make_entry, make_link, make_request


@pytest.fixture
def store(env: dict[str, str]) -> RedisStore:
    return RedisStore(connect(env["REDIS_URL"]), env["REDIS_PREFIX"])


def link(telegram_user_id: int, onec_user_id: str, name: str) -> UserLink:
    since = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    return make_link(
        telegram_user_id, onec_user_id, name=name, phone="+79990000000", linked_at=since
    )


def entry(key: str, next_at: float) -> OutboxEntry:
    request = make_request(f"task-{key}", key=key, comment="личный комментарий")
    return make_entry(request, next_at=next_at)


def dead_entry(store: RedisStore, key: str) -> None:
    """An entry a worker gave up on, the way the worker does it."""
    store.enqueue(entry(key, time.time() - 1))
    lease = store.claim(key, time.time(), 30)
    assert lease is not None
    assert store.dead_letter(key, lease, "1C refused: 400")


def test_links_list_shows_every_linked_user_as_text_and_json(runner, env, store) -> None:
    store.save_link(link(101, "onec-1", "Иванов Иван"))
    store.save_link(link(102, "onec-2", "Сидорова Анна"))
    text = runner("links", "list", env=env)
    assert text.returncode == 0, text.stderr
    assert "101\tИванов Иван (onec-1)\t+79990000000\tsince 2026-12-01 09:30" in text.stdout
    assert text.stdout.splitlines()[-1] == "2 linked"
    listed = json.loads(runner("links", "list", "--json", env=env).stdout)
    assert [item["telegram_user_id"] for item in listed] == [101, 102]
    assert listed[1]["onec_user_name"] == "Сидорова Анна"


def test_links_revoke_with_yes_drops_the_link_of_a_1c_user_and_logs_it(runner, env, store) -> None:
    store.save_link(link(101, "onec-1", "Иванов Иван"))
    store.save_link(link(103, "onec-1", "Иванов Иван"))  # replaces 101: one account per 1C user
    store.save_link(link(102, "onec-2", "Сидорова Анна"))
    result = runner("links", "revoke", "--onec-user", "onec-1", "--yes", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"revoked": [103]}
    assert "admin revoked the link of Telegram user 103 (1C user onec-1)" in result.stderr
    assert [x.telegram_user_id for x in store.all_links()] == [102]


def test_links_revoke_without_a_terminal_or_yes_changes_nothing(runner, env, store) -> None:
    store.save_link(link(101, "onec-1", "Иванов Иван"))
    result = runner("links", "revoke", "101", env=env)
    assert result.returncode == 3
    assert "not confirmed" in result.stderr
    assert store.get_link(101) is not None


def test_outbox_list_shows_waiting_then_dead_entries_without_the_comment(
    runner, env, store
) -> None:
    store.enqueue(entry("press-waiting", time.time() + 600))
    dead_entry(store, "press-dead")
    result = runner("outbox", "list", "--json", env=env)
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    assert [(i["id"], i["state"]) for i in items] == [
        ("press-waiting", "waiting"),
        ("press-dead", "dead"),
    ]
    assert items[1]["last_error"] == "1C refused: 400"
    assert "личный комментарий" not in result.stdout
    text = runner("outbox", "list", env=env)
    assert text.stdout.splitlines()[-1] == "1 waiting, 1 dead"


def test_outbox_retry_makes_a_dead_entry_due_again_with_attempts_afresh(runner, env, store) -> None:
    dead_entry(store, "press-dead")
    result = runner("outbox", "retry", "press-dead", "press-unknown", env=env)
    assert result.returncode == 1  # one of the two does not exist
    assert "retried: press-dead" in result.stdout
    assert "not retried (no such entry, or a worker is sending it now): press-unknown" in (
        result.stdout
    )
    assert "admin retried outbox entry press-dead" in result.stderr
    assert [e.id for e in store.due(time.time(), 10)] == ["press-dead"]
    assert store.dead_letter_count() == 0


def test_outbox_drop_forgets_an_entry_but_not_one_a_worker_is_sending(runner, env, store) -> None:
    store.enqueue(entry("press-a", time.time() - 1))
    store.enqueue(entry("press-b", time.time() - 1))
    assert store.claim("press-b", time.time(), 60) is not None  # a worker holds it
    result = runner("outbox", "drop", "press-a", "press-b", "--yes", "--json", env=env)
    assert json.loads(result.stdout) == {"dropped": ["press-a"], "not_found_or_busy": ["press-b"]}
    assert "admin dropped outbox entry press-a" in result.stderr
    assert store.get_entry("press-a") is None
    assert store.get_entry("press-b") is not None


def test_outbox_drop_asks_first(runner, env, store) -> None:
    store.enqueue(entry("press-a", time.time() - 1))
    result = runner("outbox", "drop", "press-a", env=env)
    assert result.returncode == 3
    assert store.get_entry("press-a") is not None


def test_links_and_outbox_commands_work_on_the_base_given_with_base(runner, env) -> None:
    env = {
        **{k: v for k, v in env.items() if k != "ONEC_BASE_URL"},
        "ONEC_BASES": "uh,erp",
        "ONEC_UH_BASE_URL": "http://127.0.0.1:9/uh",
        "ONEC_ERP_BASE_URL": "http://127.0.0.1:9/erp",
    }
    erp = RedisStore(connect(env["REDIS_URL"]), namespace(env["REDIS_PREFIX"], "erp"))
    erp.save_link(link(101, "erp-1", "Иванов Иван"))
    erp.enqueue(entry("press-erp", time.time() + 600))
    assert runner("links", "list", env=env).stdout.splitlines()[-1] == "0 linked"  # uh, first
    listed = runner("links", "list", "--base", "erp", env=env)
    assert listed.stdout.splitlines()[-1] == "1 linked"
    waiting = runner("outbox", "list", "--base", "erp", "--json", env=env)
    assert [item["id"] for item in json.loads(waiting.stdout)] == ["press-erp"]
    dropped = runner("outbox", "drop", "press-erp", "--yes", "--base", "erp", env=env)
    assert dropped.returncode == 0, dropped.stderr
    assert erp.get_entry("press-erp") is None
