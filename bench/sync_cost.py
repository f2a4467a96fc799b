"""(c) What a sync pass costs when nothing changed: 1C requests and gateway CPU per pass, with
100, 1,000 and 10,000 pending tasks, for each connector (odata with the `sandbox` profile,
http, soap).

The pass is the worker's own `sync_pass` on a gateway from `build()`. The first pass (which
reads everything) is reported apart; the figures are the mean of the passes after it. Nobody
is linked, so nothing is delivered and only the reading is measured. Besides the bulk, one task
is addressed to a role of three performers (so odata reads the register `ИсполнителиЗадач`) and
ONEC_USERS_GROUP names a users group; their requests are counted apart. CPU is the calling
thread's (`time.thread_time`): the 1C emulator serves in other threads of this process, and
`process_time` would bill its work to the gateway.
"""

from __future__ import annotations

import re
import time
from typing import Any

from bench import harness
from bench.sizes import Sizes
from gateway.usecases.sync import sync_pass
from sandbox.onec.harness import RunningSandbox

CONNECTORS = ("odata", "http", "soap")
SEEDED_PENDING = 6  # the emulator's seed leaves five tasks pending; plus one role task
USERS_GROUP = "Согласующие (bench)"
ROLE = "Финансовый директор (bench)"
ROLE_PERFORMERS = ("Морозов", "Волков", "Сидорова")
_ONE_ENTITY = re.compile(r"\(guid'[0-9a-f-]{36}'\)|/tasks/[0-9a-f-]{36}")


def _classify(entries: list[dict[str, Any]]) -> dict[str, int]:
    """Requests naming one entity, batches of keys (`Ref_Key eq … or …`), reads of the
    performers register and of users groups, and listings."""
    one = sum(1 for e in entries if _ONE_ENTITY.search(e["path"]))
    by_keys = sum(1 for e in entries if "Ref_Key eq guid" in (e.get("query") or ""))
    register = sum(1 for e in entries if "InformationRegister_ИсполнителиЗадач" in e["path"])
    groups = sum(1 for e in entries if "Catalog_ГруппыПользователей" in e["path"])
    return {
        "requests": len(entries),
        "one_entity": one,
        "key_batches": by_keys,
        "register": register,
        "groups": groups,
    }


def _seed_addressing(onec: RunningSandbox) -> None:
    """One approval addressed to a role of three performers, and a users group."""
    client = onec.client
    performers = [str(client.user(name)["id"]) for name in ROLE_PERFORMERS]
    role = client.create_role(ROLE, [{"user": user} for user in performers])
    client.create_approval(route=[{"role": role}], initiator=str(client.user("Иванов")["id"]))
    client.create_user_group(USERS_GROUP, performers)


def _measure(onec: RunningSandbox, run: Any) -> dict[str, Any]:
    onec.client.clear_requests()
    cpu, wall = time.thread_time(), time.perf_counter()
    report = run()
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    figures: dict[str, Any] = dict(_classify(onec.client.requests_log()))
    figures.update(
        {
            "cpu_ms": round(cpu * 1000, 1),
            "wall_ms": round(wall * 1000, 1),
            "pending": report.pending,
        }
    )
    return figures


def _connector(onec: RunningSandbox, prefix: str, connector: str, passes: int) -> dict[str, Any]:
    with harness.emulators_telegram_only() as telegram:
        config = harness.settings(
            telegram, onec, prefix, ONEC_CONNECTOR=connector, ONEC_USERS_GROUP=USERS_GROUP
        )
        gateway = harness.build_gateway(config)
        try:
            ctx = gateway.flow()
            first = _measure(onec, lambda: sync_pass(ctx))
            later = [_measure(onec, lambda: sync_pass(ctx)) for _ in range(passes)]
        finally:
            gateway.close()
    mean = {
        key: round(sum(float(p[key]) for p in later) / len(later), 1)
        for key in (
            "requests",
            "one_entity",
            "key_batches",
            "register",
            "groups",
            "cpu_ms",
            "wall_ms",
        )
    }
    return {"first_pass": first, "per_pass": mean, "pending": later[-1]["pending"]}


def sync_cost(sizes: Sizes) -> dict[str, Any]:
    """Per pending count, per connector: the first pass, then the mean of `sync_passes`."""
    results: dict[str, Any] = {}
    with harness.redis_prefix() as prefix, harness.onec_only() as onec:
        _seed_addressing(onec)
        seeded = 0
        for pending in sizes.sync_pending:
            onec.client.bulk_seed(pending - seeded)
            seeded = pending
            connectors = CONNECTORS if pending <= sizes.sync_all_connectors_up_to else ("http",)
            results[str(pending)] = {
                connector: _connector(onec, prefix, connector, sizes.sync_passes)
                for connector in connectors
            }
    return {"seeded_besides": SEEDED_PENDING, "by_pending": results}
