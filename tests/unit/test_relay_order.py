"""The sync pass without threads: RelayOrder step by step, `relay` on executors that run each
job at once (or never), and every branch of `sync_pass` on the shared fakes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import Future
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

import pytest

from gateway.domain.records import UserLink
from gateway.domain.tasks import Decision, Person, Result, Task, TaskKind, TaskState
from gateway.errors import RenderFailed, UpstreamUnavailable
from gateway.presentation.texts import Texts
from gateway.scheduling.executors import InlineExecutor
from gateway.scheduling.relay import RelayOrder, RelayPools, Step, interleave, relay
from gateway.usecases.context import FlowContext
from gateway.usecases.sync import SyncReport, sync_pass
from tests.factories import make_link, make_person, make_task
from tests.fakes import (
    NOW,
    FakeMessenger,
    FakeOneC,
    FakeRenderer,
    InMemoryStore,
    ManualClock,
    make_context,
)

T = TypeVar("T")
P = ParamSpec("P")
TEXTS = Texts("ru")
ANNA = make_link(200, name="Анна")
BORIS = make_link(300, name="Борис")


def steps(order: RelayOrder) -> list[Step]:
    """Every card that may start now, started."""
    found = []
    while (step := order.next_step()) is not None:
        found.append(step)
    return found


# --- the order ----------------------------------------------------------------------------------


def test_cards_keep_the_pass_order_when_documents_are_ready_out_of_order() -> None:
    order = RelayOrder(["doc-a", "doc-b", "doc-c"])
    assert order.prepared == (0, 1, 2)
    order.document_ready(2)
    order.document_ready(1)
    assert steps(order) == []
    assert order.awaiting_document == 0
    order.document_ready(0)
    assert steps(order) == [Step(0, uploads=True), Step(1, uploads=True), Step(2, uploads=True)]


def test_cards_without_a_document_made_ahead_go_until_one_waits_for_its_document() -> None:
    order = RelayOrder(["", "", "doc-a", ""])
    assert steps(order) == [Step(0), Step(1)]
    assert order.awaiting_document == 2
    order.document_ready(2)
    assert steps(order) == [Step(2, uploads=True), Step(3)]


def test_other_cards_of_a_document_are_held_until_its_upload_is_done() -> None:
    order = RelayOrder(["doc-a", "doc-a", "", "doc-a"])
    assert order.prepared == (0,)
    order.document_ready(0)
    assert steps(order) == [Step(0, uploads=True), Step(2)]
    order.finished(2)
    assert steps(order) == []
    order.finished(0)  # sent or failed alike: the held cards get the document themselves
    assert steps(order) == [Step(1), Step(3)]
    order.finished(1)
    order.finished(3)
    assert order.done


def test_a_card_reached_after_its_documents_upload_goes_at_once() -> None:
    order = RelayOrder(["doc-a", "doc-b", "doc-a"])
    order.document_ready(0)
    assert steps(order) == [Step(0, uploads=True)]
    order.finished(0)
    order.document_ready(1)
    assert steps(order) == [Step(1, uploads=True), Step(2)]


def test_after_a_stop_nothing_starts_and_the_order_is_done_when_the_running_cards_are() -> None:
    order = RelayOrder(["doc-a", "doc-a", "", "doc-b"])
    order.document_ready(0)
    assert steps(order) == [Step(0, uploads=True), Step(2)]
    order.stop()
    order.document_ready(3)
    order.finished(0)  # the card it held is dropped, not released
    assert steps(order) == []
    assert order.awaiting_document is None
    assert not order.done
    order.finished(2)
    assert order.done


def test_approvers_are_taken_in_turn_with_each_ones_order_kept() -> None:
    tasks = ["a1", "a2", "a3", "b1", "b2", "c1"]
    assert interleave(tasks, key=lambda name: name[0]) == ["a1", "b1", "c1", "a2", "b2", "a3"]


# --- relay on executors without threads ---------------------------------------------------------


class HeldExecutor:
    """Runs the first `run` jobs at once and keeps the others waiting for ever (a render
    still going when the pass ends); `futures` are what it handed out."""

    def __init__(self, run: int) -> None:
        self.run = run
        self.futures: list[Future[Any]] = []
        self.inline = InlineExecutor()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """At once while `run` lasts, then never."""
        if len(self.futures) < self.run:
            future = self.inline.submit(fn, *args, **kwargs)
        else:
            future = Future()
        self.futures.append(future)
        return future

    def shutdown(self) -> None:
        """Nothing to release."""


def test_relay_sends_each_card_once_after_the_upload_it_waits_for() -> None:
    prepared: list[int] = []
    sent: list[tuple[int, bool]] = []

    def prepare(index: int) -> str:
        prepared.append(index)
        return f"document {index}"

    def send(index: int, document: Future[str] | None) -> int:
        sent.append((index, document is not None))
        return index

    results = relay(RelayPools.inline(), ["doc-a", "doc-a", "", "doc-b"], prepare, send)
    assert prepared == [0, 3]
    assert sorted(results) == [0, 1, 2, 3]
    assert sorted(sent) == [(0, True), (1, False), (2, False), (3, True)]
    assert [i for i, _ in sent].index(1) > [i for i, _ in sent].index(0)


def test_a_failed_rendering_goes_to_its_card_and_the_held_cards_still_go() -> None:
    def prepare(index: int) -> bytes:
        raise RenderFailed("fake-engine", "crashed")

    got: list[tuple[int, BaseException | None]] = []

    def send(index: int, document: Future[bytes] | None) -> None:
        got.append((index, document.exception() if document is not None else None))

    relay(RelayPools.inline(), ["doc-a", "doc-a", "doc-a"], prepare, send)
    assert [index for index, _ in got] == [0, 1, 2]
    assert isinstance(got[0][1], RenderFailed)
    assert got[1][1] is None and got[2][1] is None


def test_an_unreachable_upstream_stops_the_relay_and_cancels_the_renders_left() -> None:
    renders = HeldExecutor(run=0)
    sent: list[int] = []

    def send(index: int, document: Future[int] | None) -> None:
        sent.append(index)
        raise UpstreamUnavailable("Telegram", "connection refused")

    with pytest.raises(UpstreamUnavailable):
        relay(RelayPools(renders, InlineExecutor()), ["", "doc-b", ""], lambda i: i, send)
    assert sent == [0]
    assert [future.cancelled() for future in renders.futures] == [True]


# --- sync_pass on the shared fakes --------------------------------------------------------------


@dataclasses.dataclass
class Scene:
    """A context on fakes, with the fakes at hand."""

    ctx: FlowContext
    onec: FakeOneC
    messenger: FakeMessenger
    store: InMemoryStore
    renderer: FakeRenderer
    clock: ManualClock

    def add(self, *tasks: Task) -> None:
        """Put tasks into 1C (a new state of one replaces it)."""
        self.onec.add(*tasks)

    def card(self, task: Task, link: UserLink) -> Any:
        """The delivery record of `task` in the link's chat (None when closed)."""
        return self.store.get_delivery(task.id, link.chat_id)


@pytest.fixture
def scene() -> Scene:
    store, onec, messenger = InMemoryStore(), FakeOneC(), FakeMessenger()
    renderer, clock = FakeRenderer(), ManualClock()
    for link in (ANNA, BORIS):
        store.save_link(link)
    ctx = make_context(
        store,
        onec=onec,
        messenger=messenger,
        renderer=renderer,
        now=clock,
        pools=RelayPools.inline(),
    )
    return Scene(ctx, onec, messenger, store, renderer, clock)


def for_(link: UserLink, task_id: str = "task-1", **changes: Any) -> Task:
    """A pending approval whose performer is the link's 1C user (unless `changes` say)."""
    changes.setdefault("performer", make_person(link.onec_user_id))
    return make_task(task_id, **changes)


def test_a_new_task_is_delivered_once_with_its_document(scene: Scene) -> None:
    scene.add(for_(ANNA))
    report = sync_pass(scene.ctx)
    assert (report.pending, report.delivered) == (1, 1)
    assert scene.messenger.sent[0].document is not None
    assert scene.card(for_(ANNA), ANNA) is not None
    assert sync_pass(scene.ctx) == SyncReport(pending=1)
    assert len(scene.messenger.sent) == 1


def test_approvers_of_one_document_share_one_rendering_and_one_upload(scene: Scene) -> None:
    scene.add(for_(ANNA, "task-1"), for_(BORIS, "task-2"))
    assert sync_pass(scene.ctx).delivered == 2
    assert scene.renderer.renders == 1
    assert scene.messenger.uploads == 1
    assert scene.messenger.sent[1].document is not None
    assert scene.messenger.sent[1].document.file_id == "file-1"


def test_a_failed_rendering_still_brings_every_approver_a_card(scene: Scene) -> None:
    scene.renderer.error = RenderFailed("fake-engine", "crashed")
    scene.add(for_(ANNA, "task-1"), for_(BORIS, "task-2"))
    report = sync_pass(scene.ctx)
    assert report.delivered == 2 and report.errors == []
    assert [message.document for message in scene.messenger.sent] == [None, None]


def test_a_new_task_version_retires_the_card_and_sends_the_new_one(scene: Scene) -> None:
    scene.add(for_(ANNA))
    sync_pass(scene.ctx)
    scene.add(for_(ANNA, version="v2"))
    report = sync_pass(scene.ctx)
    assert (report.refreshed, report.delivered) == (1, 0)
    assert TEXTS.t("outcome.superseded") in scene.messenger.edits[-1].html
    assert len(scene.messenger.sent) == 2
    assert scene.card(for_(ANNA), ANNA).version == "v2"


@pytest.mark.parametrize(
    ("waited", "changes", "settings", "reminded"),
    [
        pytest.param(timedelta(hours=23), {}, {}, False, id="not-due-yet"),
        pytest.param(timedelta(hours=25), {}, {}, True, id="due-in-working-hours"),
        pytest.param(timedelta(hours=33), {}, {}, False, id="due-at-the-end-of-the-day"),
        pytest.param(timedelta(hours=44), {}, {}, False, id="due-before-the-day-starts"),
        pytest.param(timedelta(hours=25), {}, {"remind_after_hours": 0}, False, id="reminders-off"),
        pytest.param(timedelta(hours=25), {"kind": TaskKind.TASK}, {}, False, id="not-an-approval"),
    ],
)
def test_a_card_left_pending_is_brought_up_within_working_hours_only(
    scene: Scene,
    waited: timedelta,
    changes: dict[str, Any],
    settings: dict[str, Any],
    reminded: bool,
) -> None:
    for name, value in settings.items():
        setattr(scene.ctx, name, value)
    scene.add(for_(ANNA, **changes))
    sync_pass(scene.ctx)  # delivered at NOW, Friday 10:00 (working hours 09-19)
    scene.clock.advance(waited)
    assert sync_pass(scene.ctx).reminded == int(reminded)
    last = scene.messenger.sent[-1]
    assert (last.reply_to is not None) is reminded
    if reminded:
        assert last.html.startswith("⏰")
        assert scene.card(for_(ANNA), ANNA).reminded_at == NOW + waited
        assert sync_pass(scene.ctx).reminded == 0  # not again until it waits once more


@pytest.mark.parametrize(
    ("now_decides", "line"),
    [
        pytest.param({"performer": make_person(BORIS.onec_user_id)}, "reassigned", id="reassigned"),
        pytest.param(
            {
                "performer": None,
                "role": Person("role-1", "Финансовый директор"),
                "candidates": (make_person(BORIS.onec_user_id),),
            },
            "not_addressed",
            id="left-the-role",
        ),
    ],
)
def test_the_card_of_someone_who_may_no_longer_decide_is_closed(
    scene: Scene, now_decides: dict[str, Any], line: str
) -> None:
    scene.add(for_(ANNA))
    sync_pass(scene.ctx)
    scene.add(for_(ANNA, **now_decides))
    report = sync_pass(scene.ctx)
    assert (report.closed, report.delivered) == (1, 1)
    assert TEXTS.t(f"outcome.{line}") in scene.messenger.edited(1, ANNA.chat_id)
    assert scene.card(for_(ANNA), ANNA) is None
    assert scene.card(for_(ANNA), BORIS) is not None


def test_cards_of_a_task_being_decided_are_left_to_the_outbox(scene: Scene) -> None:
    role = Person("role-1", "Финансовый директор")
    both = (make_person(ANNA.onec_user_id), make_person(BORIS.onec_user_id))
    scene.add(for_(ANNA, performer=None, role=role, candidates=both))
    sync_pass(scene.ctx)
    deciding = dataclasses.replace(scene.card(for_(ANNA), ANNA), deciding=True)
    scene.store.save_delivery(deciding)
    # 1C shows Anna alone while her decision is on its way, at a new version.
    scene.add(for_(ANNA, version="v2"))
    report = sync_pass(scene.ctx)
    assert (report.refreshed, report.closed, report.delivered) == (0, 0, 0)
    assert scene.messenger.edits == []
    assert scene.card(for_(ANNA), BORIS) is not None


def gone(task: Task) -> Task | None:
    return None


@pytest.mark.parametrize(
    ("ending", "line", "announced"),
    [
        pytest.param(
            lambda task: dataclasses.replace(task, state=TaskState.CANCELLED),
            TEXTS.t("outcome.cancelled"),
            "document",
            id="cancelled",
        ),
        pytest.param(gone, TEXTS.t("outcome.cancelled"), "text", id="deleted-in-1c"),
        pytest.param(
            lambda task: dataclasses.replace(
                task,
                state=TaskState.COMPLETED,
                result=Result(Decision.APPROVE, "", ANNA.onec_user_id, NOW),
            ),
            "Согласовано",
            None,
            id="done-elsewhere",
        ),
        pytest.param(
            lambda task: dataclasses.replace(task, state=TaskState.COMPLETED),
            TEXTS.t("outcome.done_in_1c"),
            None,
            id="done-in-1c-without-a-result",
        ),
    ],
)
def test_a_finished_task_closes_its_cards_saying_how_it_ended(
    scene: Scene,
    ending: Callable[[Task], Task | None],
    line: str,
    announced: str | None,
) -> None:
    task = for_(ANNA)
    scene.add(task)
    sync_pass(scene.ctx)
    ended = ending(task)
    if ended is None:
        del scene.onec.tasks[task.id]
    else:
        scene.add(ended)
    report = sync_pass(scene.ctx)
    assert (report.pending, report.closed) == (0, 1)
    assert line in scene.messenger.edited(1, ANNA.chat_id)
    assert scene.card(task, ANNA) is None
    news = scene.messenger.sent[1:]
    if announced is None:
        assert news == []
    else:
        assert len(news) == 1
        assert news[0].html.startswith("Согласование отменено: ")
        assert (news[0].document is not None) is (announced == "document")


def test_a_card_being_decided_is_not_closed_when_its_task_ends(scene: Scene) -> None:
    task = for_(ANNA)
    scene.add(task)
    sync_pass(scene.ctx)
    scene.store.save_delivery(dataclasses.replace(scene.card(task, ANNA), deciding=True))
    scene.add(dataclasses.replace(task, state=TaskState.COMPLETED))
    sync_pass(scene.ctx)
    assert scene.messenger.edits == []


def test_an_unreachable_telegram_stops_the_pass_and_the_next_pass_sends_everything(
    scene: Scene,
) -> None:
    scene.add(for_(ANNA, "task-1"), for_(BORIS, "task-2"))
    scene.messenger.error = UpstreamUnavailable("Telegram", "connection refused")
    with pytest.raises(UpstreamUnavailable):
        sync_pass(scene.ctx)
    scene.messenger.error = None
    assert sync_pass(scene.ctx).delivered == 2


def test_reports_add_up_field_by_field() -> None:
    one = SyncReport(pending=1, delivered=2, refreshed=3, closed=4, reminded=5, errors=["a"])
    two = SyncReport(delivered=1, closed=1, errors=["b"])
    assert one + two == SyncReport(1, 3, 3, 5, 5, ["a", "b"])
