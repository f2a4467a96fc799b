"""A worker that dies at every step of a decision's way to 1C, and a fresh one that takes over.

Real Redis, the 1C emulator over HTTP (`http` and `odata` connectors) and the Telegram
emulator. The dying worker's ports are wrapped so that one call raises ProcessDied before or
after it runs: a BaseException no handler of ours catches, standing for the process dying at
that instant (no cleanup runs, its leases stay until they expire). A fresh worker (new
connections, as a new process) then handles the press again where Telegram would redeliver it
(the dead worker never acknowledged the update) and runs the outbox. Each decision reaches 1C
exactly once: a write repeated after a crash carries the same idempotency key and 1C answers
it from its memory of the first.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.bootstrap import Gateway, build
from gateway.domain.records import MessageRef, UserLink
from gateway.domain.tasks import Decision, Task
from gateway.errors import UpstreamUnavailable
from gateway.settings import Settings
from gateway.usecases import outbox
from gateway.usecases.context import FlowContext
from gateway.usecases.outbox import OutboxRunner
from gateway.usecases.press import Shown, submit
from sandbox.onec.harness import RunningSandbox
from sandbox.telegram.harness import SandboxServer
from tests.conftest import unlimited_limiter

PRESS_STEPS = {"enqueue"}  # a death here leaves the press unacknowledged: Telegram redelivers


class ProcessDied(BaseException):
    """The worker process died at this point; nothing of ours catches it."""


class Dying:
    """A port whose `method` raises ProcessDied `when` ("before"/"after") it runs, once."""

    def __init__(self, port: Any, method: str, when: str) -> None:
        self._port = port
        self._method = method
        self._when = when

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._port, name)
        if name != self._method:
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._when == "before":
                raise ProcessDied(f"before {name}")
            real(*args, **kwargs)
            raise ProcessDied(f"after {name}")

        return call


class RedisFailsOnce:
    """A store whose `method` raises UpstreamUnavailable("Redis") once, before it runs: Redis
    restarting in the middle of an attempt while the worker lives on."""

    def __init__(self, store: Any, method: str) -> None:
        self._store = store
        self._method = method
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._store, name)
        if name != self._method or self.failed:
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            self.failed = True
            raise UpstreamUnavailable("Redis", "Connection closed by server.")

        return call


@dataclass
class Scene:
    """One approver with one pending one-stage approval, linked in Redis, and the emulators
    of 1C and Telegram it lives in."""

    link: UserLink
    task: Task
    card: MessageRef
    onec: RunningSandbox
    telegram: SandboxServer


@pytest.fixture(params=["http", "odata"])
def connector(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(onec_env: dict[str, str], connector: str) -> Settings:
    return Settings.from_env({**onec_env, "ONEC_CONNECTOR": connector})


@pytest.fixture
def workers(settings: Settings) -> Iterator[Callable[[], Gateway]]:
    """Gateways, one per worker process, without flood limits of our own."""
    made: list[Gateway] = []

    def make() -> Gateway:
        gateway = build(settings, limiter=unlimited_limiter(settings))
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        gateway.close()


@pytest.fixture
def short_leases(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dead worker's lease expires in half a second instead of two minutes."""
    monkeypatch.setattr(outbox, "LEASE_SECONDS", 0.5)


users = itertools.count(1)


@pytest.fixture
def scene(onec: RunningSandbox, telegram: SandboxServer, workers: Callable[[], Gateway]) -> Scene:
    n = next(users)
    onec_id = onec.client.create_user(f"Согласующий {n}", [f"+7 950 000-00-{n:02d}"], login=f"c{n}")
    started = onec.client.create_approval(
        route=[onec_id], initiator=onec.client.user("Иванов")["id"], fields={}
    )
    tg_id = 700_000 + n
    telegram.client.create_user(tg_id, first_name=f"Согласующий {n}")
    link = UserLink(tg_id, tg_id, onec_id, f"Согласующий {n}", "79500000000", datetime.now(UTC))
    gateway = workers()
    gateway.store.save_link(link)
    task = gateway.onec.get_task(started["task_id"])
    return Scene(link, task, MessageRef(tg_id, 1), onec, telegram)


def press(ctx: FlowContext, scene: Scene) -> bool:
    """What handling the approver's press of «Согласовать» does once the checks passed."""
    shown = Shown(scene.task.version, scene.task.subject.version)
    return submit(ctx, scene.link, scene.task.id, shown, Decision.APPROVE, "", scene.card)


def run_outbox_until_empty(ctx: FlowContext, timeout: float = 15.0) -> None:
    runner = OutboxRunner(ctx)
    deadline = time.monotonic() + timeout
    while ctx.outbox.outbox_depth():
        assert time.monotonic() < deadline, "the outbox did not empty"
        if not runner.run_once():
            time.sleep(0.1)


def decisions_in_1c(scene: Scene) -> list[str]:
    return [
        str(task["decision"])
        for approval in scene.onec.client.approvals()
        for task in approval["tasks"]
        if task["id"] == scene.task.id and task["decision"]
    ]


def writes_to_1c(scene: Scene) -> list[Any]:
    """Statuses of the decision requests 1C received for the task (None: 1C was down)."""
    return [
        r["status"]
        for r in scene.onec.client.requests_log()
        if r["path"].endswith(f"/tasks/{scene.task.id}/decision")
    ]


def told(scene: Scene, needle: str) -> int:
    return sum(
        1 for m in scene.telegram.client.messages(scene.link.chat_id) if needle in m.get("text", "")
    )


CRASH_POINTS = [
    # step, port, method, when, successful writes 1C receives (a repeat is answered from the key)
    ("enqueue", "outbox", "enqueue", "before", 1),
    ("enqueue", "outbox", "enqueue", "after", 1),
    ("claim", "outbox", "claim", "before", 1),
    ("claim", "outbox", "claim", "after", 1),
    ("apply", "onec", "submit_decision", "before", 1),
    ("apply", "onec", "submit_decision", "after", 2),
    ("complete", "outbox", "complete", "before", 2),
    ("complete", "outbox", "complete", "after", 1),
]


@pytest.mark.usefixtures("short_leases")
@pytest.mark.parametrize(
    ("step", "port", "method", "when", "writes"),
    CRASH_POINTS,
    ids=[f"{when}-{method}" for _, _, method, when, _ in CRASH_POINTS],
)
def test_a_worker_dying_at_any_step_leaves_the_decision_applied_exactly_once(
    workers: Callable[[], Gateway],
    scene: Scene,
    connector: str,
    step: str,
    port: str,
    method: str,
    when: str,
    writes: int,
) -> None:
    dying = workers().flow()
    setattr(dying, port, Dying(getattr(dying, port), method, when))
    with pytest.raises(ProcessDied):
        press(dying, scene)
        OutboxRunner(dying).run_once()

    fresh = workers().flow()
    if step in PRESS_STEPS:
        press(fresh, scene)
    run_outbox_until_empty(fresh)

    assert decisions_in_1c(scene) == ["approve"]
    if connector == "http":  # OData writes through several requests; its outcome says it all
        assert writes_to_1c(scene) == [200] * writes
    assert fresh.outbox.dead_letter_count() == 0
    assert told(scene, "уже выполнена") == 0  # a repeat was never taken for a conflict
    # The outcome reaches the approver once, unless the worker died after settling it.
    assert told(scene, "Согласовано") == (0 if (method, when) == ("complete", "after") else 1)


@pytest.mark.usefixtures("short_leases")
@pytest.mark.parametrize("when", ["before", "after"])
def test_a_worker_dying_while_rescheduling_a_write_1c_refused_to_take_leaves_it_applied_once(
    workers: Callable[[], Gateway],
    scene: Scene,
    connector: str,
    when: str,
) -> None:
    scene.onec.client.set_fault("down")
    dying = workers().flow()
    dying.outbox = Dying(dying.outbox, "reschedule", when)
    assert press(dying, scene)
    with pytest.raises(ProcessDied):
        OutboxRunner(dying).run_once()
    scene.onec.client.clear_fault()

    run_outbox_until_empty(workers().flow())

    assert decisions_in_1c(scene) == ["approve"]
    if connector == "http":
        assert [status for status in writes_to_1c(scene) if status] == [200]
    assert told(scene, "Согласовано") == 1


@pytest.mark.parametrize("method", ["complete", "reschedule", "claim"])
def test_redis_failing_mid_attempt_does_not_lock_the_decision_for_the_lease_time(
    workers: Callable[[], Gateway],
    scene: Scene,
    method: str,
) -> None:
    """The worker lives on; its lease (two minutes) is given back once Redis answers."""
    if method == "reschedule":
        scene.onec.client.set_fault("down", seconds=1)
    ctx = workers().flow()
    flaky = RedisFailsOnce(ctx.outbox, method)
    ctx.outbox = flaky
    assert press(ctx, scene)
    runner = OutboxRunner(ctx)
    with pytest.raises(UpstreamUnavailable):
        while not flaky.failed:
            runner.run_once()
            time.sleep(0.1)
    started = time.monotonic()
    while ctx.outbox.outbox_depth():
        assert time.monotonic() - started < 10, "the decision waited for its lease to expire"
        with contextlib.suppress(UpstreamUnavailable):
            runner.run_once()
        time.sleep(0.1)

    assert decisions_in_1c(scene) == ["approve"]
    assert told(scene, "Согласовано") == 1


@pytest.mark.usefixtures("short_leases")
@pytest.mark.parametrize("connector", ["http"])  # a slowed OData write takes seconds
def test_a_worker_whose_entry_was_taken_over_mid_write_changes_nothing_and_1c_applies_once(
    workers: Callable[[], Gateway],
    scene: Scene,
    connector: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """1C answers slower than the first worker's lease: a second worker takes the entry over
    and writes it again; 1C answers the repeat from the idempotency key, the first worker's
    late answer settles nothing, and the approver hears once."""
    scene.onec.client.set_fault("slow", seconds=1.5)
    first = workers().flow()
    runners = [OutboxRunner(first), OutboxRunner(workers().flow())]
    assert [runner.run_once() for runner in runners] == [0, 0]  # both running, idle
    assert press(first, scene)
    outcomes: list[int] = []
    slow = threading.Thread(target=lambda: outcomes.append(runners[0].run_once()))
    slow.start()
    time.sleep(0.8)  # the first worker's lease (0.5 s) has expired; its write is in flight
    monkeypatch.setattr(outbox, "LEASE_SECONDS", 30.0)
    assert runners[1].run_once() == 1
    slow.join(10)

    assert outcomes == [1]
    assert decisions_in_1c(scene) == ["approve"]
    if connector == "http":
        assert writes_to_1c(scene) == [200, 200]
    assert first.outbox.outbox_depth() == 0
    assert told(scene, "Согласовано") == 1
    assert told(scene, "уже выполнена") == 0


@pytest.mark.usefixtures("short_leases")
@pytest.mark.parametrize("connector", ["http"])  # a slowed OData write takes seconds
def test_a_write_slower_than_the_lease_is_still_settled_when_nobody_took_the_entry_over(
    workers: Callable[[], Gateway],
    scene: Scene,
) -> None:
    scene.onec.client.set_fault("slow", seconds=1.0)
    ctx = workers().flow()
    assert press(ctx, scene)
    assert OutboxRunner(ctx).run_once() == 1
    assert ctx.outbox.outbox_depth() == 0
    assert decisions_in_1c(scene) == ["approve"]
    assert told(scene, "Согласовано") == 1


@pytest.mark.parametrize("connector", ["http"])
def test_a_decision_waiting_out_a_long_backoff_goes_to_1c_within_seconds_of_its_return(
    workers: Callable[[], Gateway],
    scene: Scene,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outbox, "BACKOFF_BASE_SECONDS", 600.0)  # next attempt 5–10 min away
    scene.onec.client.set_fault("down")
    ctx = workers().flow()
    runner = OutboxRunner(ctx)
    assert press(ctx, scene)
    assert runner.run_once() == 1
    assert ctx.outbox.due(time.time() + 60, 10) == []
    scene.onec.client.clear_fault()
    back = time.monotonic()
    while not decisions_in_1c(scene):
        assert time.monotonic() - back < outbox.PROBE_SECONDS + 3, "it waited out its backoff"
        runner.run_once()
        time.sleep(0.2)
    assert told(scene, "Согласовано") == 1
