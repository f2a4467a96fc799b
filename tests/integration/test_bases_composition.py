"""Several infobases in one gateway (issue 21): each base's state in its own Redis namespace.

Real Redis: the keys two bases write never meet, the update stream and invites stay in the root
namespace, and the single base writes exactly the keys it wrote before bases existed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from gateway.bootstrap import Gateway, build, namespace, onec_dependency
from gateway.domain.infobases import Infobase
from gateway.domain.records import MessageRef
from gateway.ports.storage import LeaderRole
from gateway.settings import Settings
from tests.factories import make_link


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(
        os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), decode_responses=True
    )
    yield connection
    connection.close()


def two_bases(env: dict[str, str]) -> dict[str, str]:
    return {
        **{k: v for k, v in env.items() if k != "ONEC_BASE_URL"},
        "ONEC_BASES": "uh,erp",
        "ONEC_UH_BASE_URL": "http://127.0.0.1:9/uh",
        "ONEC_UH_TITLE": "УХ",
        "ONEC_ERP_BASE_URL": "http://127.0.0.1:9/erp",
        "ONEC_ERP_OTHER_TASKS": "off",
    }


def write_the_same_state(gateway: Gateway) -> None:
    """Every base links user 200, shows task-1 in one message, leads its sync."""
    for flow in gateway.flows():
        flow.links.save_link(make_link(200, f"{flow.base.name or 'single'}-user"))
        flow.messages.remember_message(MessageRef(200, 7), "task-1")
        flow.coordination.acquire_leadership(LeaderRole.SYNC, "worker-a", 30)
        flow.status.set_status(last_sync_error=f"in {flow.base.name}")


def test_two_bases_write_the_same_ids_under_their_own_namespaces(
    env: dict[str, str], redis_prefix: str, client: redis.Redis
) -> None:
    gateway = build(Settings.from_env(two_bases(env)))
    try:
        assert list(gateway.bases) == ["uh", "erp"]
        uh, erp = gateway.flows()
        assert (uh.base, erp.base) == (Infobase("uh", "УХ"), Infobase("erp", "ERP"))
        assert (uh.other_tasks, erp.other_tasks) == ("notify", "off")
        write_the_same_state(gateway)
        # One bot, one update stream: updates and invites are the root namespace's.
        assert uh.updates is erp.updates is gateway.store
        assert uh.invites is erp.invites is gateway.store
        uh.invites.save_invite("code-1", 60)
        assert erp.invites.take_invite("code-1")
        assert uh.links.get_link(200).onec_user_id == "uh-user"  # type: ignore[union-attr]
        assert erp.links.get_link(200).onec_user_id == "erp-user"  # type: ignore[union-attr]
        assert uh.status.get_status()["last_sync_error"] == "in uh"
        assert erp.status.get_status()["last_sync_error"] == "in erp"
        # Both bases hold their own sync lock: one worker may lead uh while another leads erp.
        assert not erp.coordination.acquire_leadership(LeaderRole.SYNC, "worker-b", 30)
        assert uh.coordination.leader(LeaderRole.SYNC) == "worker-a"
    finally:
        gateway.close()
    keys = set(client.scan_iter(match=redis_prefix + "*"))
    for name in ("uh", "erp"):
        own = {k for k in keys if k.startswith(namespace(redis_prefix, name))}
        assert f"{redis_prefix}{name}:link:tg:200" in own
        assert f"{redis_prefix}{name}:msg:200:7" in own
        assert f"{redis_prefix}{name}:leader:sync" in own
    assert f"{redis_prefix}link:tg:200" not in keys  # nothing of a base in the root


def test_the_single_base_keeps_its_keys_in_the_root_namespace(
    env: dict[str, str], redis_prefix: str, client: redis.Redis
) -> None:
    gateway = build(Settings.from_env(env))
    try:
        assert list(gateway.bases) == [""]
        (flow,) = gateway.flows()
        assert flow.base == Infobase()
        assert gateway.first.store is gateway.store
        write_the_same_state(gateway)
        assert list(gateway.dependencies())[:1] == ["1c"]
    finally:
        gateway.close()
    keys = set(client.scan_iter(match=redis_prefix + "*"))
    assert {
        f"{redis_prefix}link:tg:200",
        f"{redis_prefix}link:onec:single-user",
        f"{redis_prefix}msg:200:7",
        f"{redis_prefix}task:msgs:task-1",
        f"{redis_prefix}leader:sync",
    } <= keys


def test_readiness_names_each_base(env: dict[str, str]) -> None:
    gateway = build(Settings.from_env(two_bases(env)))
    try:
        names = list(gateway.dependencies())
    finally:
        gateway.close()
    assert names == ["1c:uh", "1c:erp", "redis", "telegram", "pdf"]
    assert (onec_dependency(""), onec_dependency("uh")) == ("1c", "1c:uh")
