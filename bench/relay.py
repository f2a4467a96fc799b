"""(a) Relay throughput: N tasks for M linked approvers over D documents, delivered by one sync
pass, with Telegram's flood limits on (the emulator's and the gateway's) and with both off.
Limits on runs twice: the emulator counting with token buckets, and strictly (at most 30 in any
sliding second, one per chat in any second).

Limits on runs the worker as deployed (`python -m gateway run`, its own process and GIL), so the
same run gives (e)'s peak memory during the relay. The two-bases relay (issue 21) runs it with
ONEC_BASES=uh,erp: half the tasks in each of two 1C emulators, every approver linked in both,
one bot and one flood limit for all. Limits off runs the worker in-process with
the gateway's limiter off and a counting renderer: the gateway's own ceiling, and (d)'s
renderings and uploads per delivery. In-process, the emulators share the worker's interpreter,
so that ceiling is a lower bound.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from adapters.metrics import InstrumentedRenderer
from adapters.pdf import create_renderer
from adapters.redis_store import RedisRateLimiter, RedisStore, connect
from bench import harness
from bench.population import Approval, add_to_base, make_approvers, spread_tasks
from bench.sizes import Sizes
from bench.stats import wait_until
from bench.subprocess_worker import WorkerProcess
from gateway.bootstrap import namespace
from sandbox.onec import harness as onec_harness
from sandbox.onec.harness import RunningSandbox
from sandbox.telegram.flood import BUCKET
from sandbox.telegram.harness import SandboxServer

CEILING_PER_SECOND = 30.0  # Telegram's documented bot-wide limit, and the emulator's
CHAT_CEILING_PER_SECOND = 1.0  # one message a second per chat
SENDS = ("sendDocument", "sendMessage")
FLOOD_WARNING = "Telegram flood control"
CONNECTOR = "odata"  # the default connector: the gateway renders every PDF itself
FAR_LATENCY = 0.1  # seconds each Bot API call takes in the "Telegram far away" relay
ROLE_EVERY = 3  # the roles relay: every third task is addressed to a role of three candidates


def _sends(telegram: SandboxServer, chats: set[int]) -> list[dict[str, Any]]:
    calls = [c for c in telegram.client.calls() if c["method"] in SENDS]
    return [c for c in calls if int(c["params"].get("chat_id", 0)) in chats]


def _populate(
    telegram: SandboxServer, onec: RunningSandbox, prefix: str, sizes: Sizes, role_every: int = 0
) -> list[Approval]:
    store = RedisStore(connect(harness.REDIS_URL), prefix)
    approvers = make_approvers(onec, telegram, store, sizes.relay_approvers)
    return spread_tasks(
        onec, approvers, sizes.relay_tasks, sizes.relay_documents, role_every=role_every
    )


def _figures(
    telegram: SandboxServer, onec: RunningSandbox, approvals: list[Approval], started: float
) -> dict[str, Any]:
    chats = {a.chat_id for a in approvals}
    calls = _sends(telegram, chats)
    ok = sorted((c for c in calls if c["status"] == 200), key=lambda c: c["time"])
    refused = [c for c in calls if c["status"] == 429]
    uploads = sum(
        1 for c in ok if c["method"] == "sendDocument" and isinstance(c["params"]["document"], dict)
    )
    reused = sum(
        1 for c in ok if c["method"] == "sendDocument" and isinstance(c["params"]["document"], str)
    )
    figures: dict[str, Any] = {
        "tasks": len(approvals),
        "documents": len({a.document_id for a in approvals}),
        "approvers": len(chats),
        "delivered": len(ok),
        "answers_429_emulator": len(refused),
        "uploads": uploads,
        "file_id_reuses": reused,
        "print_forms_fetched": sum(
            1 for r in onec.client.requests_log() if r["path"].endswith("/print")
        ),
        "ceiling_per_second": CEILING_PER_SECOND,
    }
    if len(ok) >= 2:
        first, last = ok[0]["time"], ok[-1]["time"] + ok[-1]["duration"]
        figures["messages_per_second"] = round((len(ok) - 1) / (ok[-1]["time"] - first), 2)
        figures["drain_seconds"] = round(last - first, 2)
        figures["first_message_after_start_seconds"] = round(first - started, 2)
        figures["share_of_ceiling"] = round(figures["messages_per_second"] / CEILING_PER_SECOND, 3)
        # Where a relay falls short of its pace: pauses between arrivals, the longest first.
        gaps = sorted((b["time"] - a["time"] for a, b in itertools.pairwise(ok)), reverse=True)
        figures["longest_gaps_ms"] = [round(g * 1000, 1) for g in gaps[:5]]
        figures["seconds_in_gaps_over_100ms"] = round(sum(g for g in gaps if g > 0.1), 2)
    return figures


def relay_limits_on(
    sizes: Sizes, latency: float = 0.0, mode: str = BUCKET, role_every: int = 0
) -> dict[str, Any]:
    """The worker subprocess relays with the emulator's flood limits and the gateway's limiter;
    each Bot API call waits `latency` seconds in the emulator (Telegram over the internet).
    `mode` is how the emulator counts: token buckets, or `strict` (at most 30 in any sliding
    second, one per chat), the strictest way Telegram might count. With `role_every` = n,
    every n-th task is addressed to a role of three candidates (three cards)."""
    with harness.redis_prefix() as prefix, harness.emulators(flood=True) as (telegram, onec):
        approvals = _populate(telegram, onec, prefix, sizes, role_every)
        telegram.client.set_latency(latency)
        telegram.client.set_flood(CEILING_PER_SECOND, CHAT_CEILING_PER_SECOND, mode)
        env = harness.environment(
            telegram, onec, prefix, ONEC_CONNECTOR=CONNECTOR, ONEC_POLL_INTERVAL="120"
        )
        figures = _drain_in_subprocess(env, telegram, onec, approvals, sizes)
        figures["mode"] = "limits on: worker subprocess"
        figures["flood_counting"] = mode
        figures["connector"] = CONNECTOR
        figures["telegram_latency_seconds"] = latency
        figures["role_tasks"] = _role_tasks(approvals)
        return figures


def _drain_in_subprocess(
    env: dict[str, str],
    telegram: SandboxServer,
    onec: RunningSandbox,
    approvals: list[Approval],
    sizes: Sizes,
) -> dict[str, Any]:
    """`python -m gateway run` with `env` until every card arrived (or it died, or time is up);
    the relay's figures, the gateway's 429 count and the worker's peak memory."""
    with WorkerProcess(env) as worker:
        chats = {a.chat_id for a in approvals}
        wait_until(
            lambda: (
                not worker.alive
                or sum(1 for c in _sends(telegram, chats) if c["status"] == 200) >= len(approvals)
            ),
            sizes.drain_timeout,
            interval=0.5,
        )
        worker.stop()
        figures = _figures(telegram, onec, approvals, worker.started_at)
        figures["answers_429_gateway"] = worker.log_text().count(FLOOD_WARNING)
        figures["worker_peak_rss_mb"] = worker.peak_mb
    return figures


def relay_bases(sizes: Sizes) -> dict[str, Any]:
    """The limits-on relay with two infobases (ONEC_BASES=uh,erp) behind one bot: the tasks
    split between the УХ and ERP emulators, each approver a 1C user in both and linked in both
    bases' namespaces. One bot means one limit: the target is the single-base one, in total."""
    with (
        harness.redis_prefix() as prefix,
        harness.emulators(flood=True) as (telegram, onec),
        onec_harness.running(seed="erp", base="/erp") as erp,
    ):
        redis = connect(harness.REDIS_URL)
        approvers = make_approvers(
            onec, telegram, RedisStore(redis, namespace(prefix, "uh")), sizes.relay_approvers
        )
        in_erp = add_to_base(erp, RedisStore(redis, namespace(prefix, "erp")), approvers)
        half, half_documents = sizes.relay_tasks // 2, max(1, sizes.relay_documents // 2)
        approvals = spread_tasks(onec, approvers, half, half_documents)
        approvals += spread_tasks(erp, in_erp, sizes.relay_tasks - half, half_documents)
        telegram.client.set_flood(CEILING_PER_SECOND, CHAT_CEILING_PER_SECOND, BUCKET)
        env = harness.environment(
            telegram, onec, prefix, ONEC_CONNECTOR=CONNECTOR, ONEC_POLL_INTERVAL="120"
        )
        del env["ONEC_BASE_URL"]
        env.update(
            ONEC_BASES="uh,erp", ONEC_UH_BASE_URL=onec.base_url, ONEC_ERP_BASE_URL=erp.base_url
        )
        figures = _drain_in_subprocess(env, telegram, onec, approvals, sizes)
        figures["print_forms_fetched"] += sum(
            1 for r in erp.client.requests_log() if r["path"].endswith("/print")
        )
        figures["tasks_by_base"] = {"uh": half, "erp": len(approvals) - half}
        figures["mode"] = "limits on: worker subprocess, two bases"
        figures["flood_counting"] = BUCKET
        figures["connector"] = CONNECTOR
        return figures


def _role_tasks(approvals: list[Approval]) -> int:
    """How many tasks have more than one card (addressed to a role)."""
    cards: dict[str, int] = {}
    for a in approvals:
        cards[a.task_id] = cards.get(a.task_id, 0) + 1
    return sum(1 for n in cards.values() if n > 1)


def relay_limits_off(sizes: Sizes) -> dict[str, Any]:
    """The in-process worker relays with no flood limit anywhere: the gateway's own ceiling."""
    with harness.redis_prefix() as prefix, harness.emulators(flood=False) as (telegram, onec):
        approvals = _populate(telegram, onec, prefix, sizes)
        config = harness.settings(telegram, onec, prefix, ONEC_CONNECTOR=CONNECTOR)
        render_times = harness.RenderTimes()
        renderer = InstrumentedRenderer(create_renderer(config.pdf_engine), render_times)
        limiter = RedisRateLimiter(
            connect(harness.REDIS_URL), prefix, per_second=0, per_chat_per_second=0
        )
        gateway = harness.build_gateway(config, renderer=renderer, limiter=limiter)
        started = time.time()
        with harness.running_worker(gateway):
            chats = {a.chat_id for a in approvals}
            wait_until(
                lambda: (
                    sum(1 for c in _sends(telegram, chats) if c["status"] == 200) >= len(approvals)
                ),
                sizes.drain_timeout,
                interval=0.5,
            )
        figures = _figures(telegram, onec, approvals, started)
        figures["answers_429_gateway"] = gateway.messenger.rate_limited
        figures["renderings"] = render_times.renders
        figures["render_seconds_total"] = round(sum(render_times.durations), 2)
        figures["mode"] = "limits off: worker in-process"
        figures["connector"] = CONNECTOR
        return figures
