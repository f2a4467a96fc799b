"""Every outcome of one attempt to write a decision to 1C, one table row each.

The approver in CHAT pressed «Согласовать» on a role task whose other candidate holds a card in
OTHER_CHAT; the decision is in the outbox and claimed. Each row says what 1C answers and what
follows: what `apply` returns and counts, how the approver's card is edited (in order), whether
a fresh card follows, what the approver and the admins are told, whether the other candidate's
card is closed, and what is left of the entry.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest

from gateway.domain.records import MessageRef, OutboxEntry
from gateway.domain.tasks import Decision, Result, TaskState
from gateway.errors import (
    AlreadyCompleted,
    ConfigurationError,
    GatewayError,
    NotPerformer,
    Refused,
    RequestRejected,
    StaleDecision,
    UpstreamUnavailable,
)
from gateway.presentation import cards
from gateway.presentation.texts import escape
from gateway.scheduling.deadline import InlineDeadline
from gateway.usecases.outbox import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    LEASE_SECONDS,
    LOST_LEASE,
    MAX_ATTEMPTS,
    UNAVAILABLE,
    OutboxRunner,
    apply,
)
from gateway.usecases.press import Shown, submit
from tests.factories import PERFORMER_NAME, make_delivery, make_link, make_person, make_task
from tests.fakes import NOW, InMemoryStore
from tests.unit.scenes import CARD, CHAT, TEXTS, Scene, make_scene

OTHER_CHAT = 300
OTHER_CARD = 7
ADMIN_CHAT = 900
LABEL = escape(TEXTS.button(Decision.APPROVE))
SUBJECT = "Согласовать заявку 0000-000042"  # the first line of the card (make_delivery's text)
DOWN = UpstreamUnavailable("1C", "connection refused")
REFUSAL = "Лимит <бюджета> исчерпан"

APPLIED = cards.outcome_lines(TEXTS, Decision.APPROVE, PERFORMER_NAME, NOW, "")[0]
PENDING = TEXTS.t("outcome.pending", decision=LABEL)
STALE = TEXTS.t("decision.stale", decision=LABEL)
REFUSED = TEXTS.t("decision.refused", reason=escape(REFUSAL))
ALREADY = TEXTS.t("decision.already")
NOT_PERFORMER = TEXTS.t("decision.not_performer")
REJECTED = TEXTS.t("decision.rejected", reason=escape("decision <x> not offered"))
FAILED = TEXTS.t("outcome.failed", decision=LABEL, reason=escape(str(DOWN)))
DEAD = TEXTS.t("decision.dead", decision=LABEL, subject=escape(SUBJECT), attempts=MAX_ATTEMPTS)


class RecordingMetrics:
    """The Metrics port keeping each decision outcome counted."""

    def __init__(self) -> None:
        self.decisions: list[tuple[str, str]] = []

    def task_relayed(self) -> None:
        """Not counted here."""

    def decision(self, decision: str, outcome: str) -> None:
        """Keep the outcome."""
        self.decisions.append((decision, outcome))

    def onec_request(self, operation: str, seconds: float) -> None:
        """Not counted here."""

    def telegram_request(self, method: str, seconds: float) -> None:
        """Not counted here."""

    def pdf_render(self, engine: str, seconds: float) -> None:
        """Not counted here."""


def make_outbox_scene(store: InMemoryStore | None = None) -> Scene:
    """A role task with two candidates holding cards, and an admin; `store` holds every
    storage port (a fresh InMemoryStore by default)."""
    link = make_link(CHAT)
    other = make_link(OTHER_CHAT, name="Сидоров Сидор Сидорович")
    admin = make_link(ADMIN_CHAT, name="Админ", admin=True)
    task = make_task(
        performer=None,
        role=make_person("role-1", "Финансовый контролер"),
        candidates=(
            make_person(link.onec_user_id, link.onec_user_name),
            make_person(other.onec_user_id, other.onec_user_name),
        ),
    )
    holders = [(link, CARD), (other, OTHER_CARD), (admin, None)]
    return make_scene(task, holders, store, metrics=RecordingMetrics(), deadline=InlineDeadline())


def counted(scene: Scene) -> list[tuple[str, str]]:
    """The decision outcomes counted in metrics."""
    assert isinstance(scene.ctx.metrics, RecordingMetrics)
    return scene.ctx.metrics.decisions


def pressed_only(scene: Scene) -> OutboxEntry:
    """The approver's press, stored and not yet claimed."""
    shown = Shown(scene.task.version, scene.task.subject.version)
    card = MessageRef(CHAT, CARD)
    assert submit(scene.ctx, scene.link, scene.task.id, shown, Decision.APPROVE, "", card)
    (entry,) = scene.store.due(math.inf, 10)
    return entry


def pressed(scene: Scene) -> tuple[OutboxEntry, str]:
    """The approver's press, stored and claimed by this worker: the entry and its lease."""
    entry = pressed_only(scene)
    lease = scene.store.claim(entry.id, time.time(), LEASE_SECONDS)
    assert lease is not None
    return entry, lease


# --- arranging each outcome: what 1C answers, which entry and lease are attempted -----------------

Arrange = Callable[[Scene, OutboxEntry, str], tuple[OutboxEntry, str]]


def written(scene: Scene, entry: OutboxEntry, lease: str) -> tuple[OutboxEntry, str]:
    return entry, lease


def stale(scene: Scene, entry: OutboxEntry, lease: str) -> tuple[OutboxEntry, str]:
    scene.onec.outcome = StaleDecision("1C", "the task changed", scene.changed(version="v2"))
    return entry, lease


def refused(scene: Scene, entry: OutboxEntry, lease: str) -> tuple[OutboxEntry, str]:
    scene.onec.outcome = Refused("1C", REFUSAL)
    return entry, lease


def already(scene: Scene, entry: OutboxEntry, lease: str) -> tuple[OutboxEntry, str]:
    result = Result(Decision.APPROVE, "", scene.link.onec_user_id, NOW)
    done = scene.changed(state=TaskState.COMPLETED, result=result)
    scene.onec.outcome = AlreadyCompleted("1C", "the task is no longer pending", done)
    return entry, lease


def not_performer(scene: Scene, entry: OutboxEntry, lease: str) -> tuple[OutboxEntry, str]:
    scene.onec.outcome = NotPerformer("1C", "not_performer", "not a performer")
    return entry, lease


def rejected(scene: Scene, entry: OutboxEntry, lease: str) -> tuple[OutboxEntry, str]:
    scene.onec.outcome = RequestRejected("1C", "invalid", "decision <x> not offered")
    return entry, lease


def failing(error: GatewayError, attempts: int = 0) -> Arrange:
    def arrange(scene: Scene, entry: OutboxEntry, lease: str) -> tuple[OutboxEntry, str]:
        scene.onec.outcome = error
        return replace(entry, attempts=attempts), lease

    return arrange


def slow(scene: Scene, entry: OutboxEntry, lease: str) -> tuple[OutboxEntry, str]:
    assert isinstance(scene.ctx.deadline, InlineDeadline)
    scene.ctx.deadline.slow = True
    return entry, lease


def lease_lost(then: Arrange) -> Arrange:
    """Another worker took the entry over (our lease expired) before this one settled it."""

    def arrange(scene: Scene, entry: OutboxEntry, lease: str) -> tuple[OutboxEntry, str]:
        entry, _ = then(scene, entry, lease)
        return entry, "an expired lease of ours"

    return arrange


@dataclass(frozen=True)
class Then:
    """What follows one attempt."""

    returned: str
    counted: str | None  # the outcome counted in metrics
    card: list[str] = field(default_factory=list)  # last line of each edit of the card, in order
    new_card: bool = False  # the task's current card follows, buttons and all
    told: list[str] = field(default_factory=list)  # other messages to the approver
    admins_alerted: bool = False
    others_closed: bool = False  # the other candidate's card says who decided
    entry: str = "gone"  # gone, waiting (attempt counted, due later), dead, held (untouched)


OUTCOMES = [
    ("applied", written, Then("applied", "applied", [APPLIED], others_closed=True)),
    ("stale: the current card follows", stale, Then("stale", "stale", [STALE], new_card=True)),
    ("refused: 1C's text", refused, Then("refused", "refused", [REFUSED], new_card=True)),
    ("already completed", already, Then("already_completed", "already_completed", [ALREADY])),
    ("not performer", not_performer, Then("not_performer", "not_performer", [NOT_PERFORMER])),
    ("rejected", rejected, Then("rejected", "rejected", [REJECTED])),
    (
        "1C unavailable: retry, pending shown",
        failing(DOWN),
        Then(UNAVAILABLE, "retry", [PENDING], entry="waiting"),
    ),
    (
        "1C unavailable again: pending not shown twice",
        failing(DOWN, attempts=3),
        Then(UNAVAILABLE, "retry", entry="waiting"),
    ),
    (
        "configuration error: retry",
        failing(ConfigurationError("1C publication missing")),
        Then("retry", "retry", [PENDING], entry="waiting"),
    ),
    (
        "dead letter after MAX_ATTEMPTS",
        failing(DOWN, attempts=MAX_ATTEMPTS - 1),
        Then(
            "dead_letter", "dead_letter", [FAILED], told=[DEAD], admins_alerted=True, entry="dead"
        ),
    ),
    (
        "lost lease at settle: nothing told",
        lease_lost(written),
        Then(LOST_LEASE, None, entry="held"),
    ),
    (
        "lost lease at a refusal: nothing told",
        lease_lost(refused),
        Then(LOST_LEASE, None, entry="held"),
    ),
    (
        "slow first write: pending shown before the outcome",
        slow,
        Then("applied", "applied", [PENDING, APPLIED], others_closed=True),
    ),
]


@pytest.mark.parametrize(
    ("arrange", "then"), [row[1:] for row in OUTCOMES], ids=[row[0] for row in OUTCOMES]
)
def test_an_attempt_to_write_a_decision(arrange: Arrange, then: Then) -> None:
    scene = make_outbox_scene()
    entry, lease = arrange(scene, *pressed(scene))

    assert apply(scene.ctx, entry, lease) == then.returned

    assert counted(scene) == ([("approve", then.counted)] if then.counted else [])
    card = MessageRef(CHAT, CARD)
    assert [e.html.rpartition("\n")[2] for e in scene.messenger.edits if e.ref == card] == then.card
    sent = [m for m in scene.messenger.sent if m.ref.chat_id == CHAT]
    assert [m.html for m in sent if m.markup is None] == then.told
    assert bool([m for m in sent if m.markup is not None]) == then.new_card
    admins = scene.messenger.to(ADMIN_CHAT)
    assert (len(admins), LABEL in "".join(admins)) == (
        (1, True) if then.admins_alerted else (0, False)
    )
    other = [e.html for e in scene.messenger.edits if e.ref.chat_id == OTHER_CHAT]
    assert other == ([f"{SUBJECT}\n{APPLIED}"] if then.others_closed else [])
    assert entry_state(scene, entry) == then.entry
    assert_card_record(scene, then)


def entry_state(scene: Scene, entry: OutboxEntry) -> str:
    stored = scene.store.get_entry(entry.id)
    if stored is None:
        return "gone"
    if scene.store.dead_letter_count():
        return "dead"
    if stored.attempts == entry.attempts + 1 and stored.next_at > NOW.timestamp():
        return "waiting"
    return "held" if stored.attempts == entry.attempts else "changed"


def assert_card_record(scene: Scene, then: Then) -> None:
    """The card's record: kept (still deciding) while the decision waits, replaced by the new
    card's, or closed."""
    delivery = scene.store.get_delivery(scene.task.id, CHAT)
    if then.entry in ("waiting", "held"):
        assert delivery is not None and delivery.deciding == Decision.APPROVE.value
    elif then.new_card:
        assert delivery is not None and delivery.message_id != CARD and not delivery.deciding
    else:
        assert delivery is None


def test_a_decision_on_a_card_replaced_while_its_reason_was_typed_leaves_the_new_card() -> None:
    """Stale, and the card it came from was replaced meanwhile: the new card stands (the sync
    pass keeps it current), the approver is told why in a message."""
    scene = make_outbox_scene()
    entry, lease = pressed(scene)
    scene.store.save_delivery(make_delivery(scene.task, CHAT, CARD + 5, deciding="approve"))
    scene.onec.outcome = StaleDecision("1C", "the task changed", scene.changed(version="v2"))

    assert apply(scene.ctx, entry, lease) == "stale"

    assert scene.messenger.edits == []
    assert scene.messenger.to(CHAT) == [STALE]
    delivery = scene.store.get_delivery(scene.task.id, CHAT)
    assert delivery is not None and delivery.message_id == CARD + 5 and not delivery.deciding


@pytest.mark.parametrize(
    ("attempt", "longest"),
    [(1, BACKOFF_BASE_SECONDS), (5, 16 * BACKOFF_BASE_SECONDS), (12, BACKOFF_CAP_SECONDS)],
    ids=["first retry", "doubling", "capped"],
)
def test_a_retry_waits_the_doubling_backoff_less_up_to_half_of_it_as_jitter(
    attempt: int, longest: float
) -> None:
    scene = make_outbox_scene()
    entry, lease = failing(DOWN, attempts=attempt - 1)(scene, *pressed(scene))

    apply(scene.ctx, entry, lease)

    waiting = scene.store.get_entry(entry.id)
    assert waiting is not None and waiting.attempts == attempt
    assert longest / 2 <= waiting.next_at - NOW.timestamp() <= longest


# --- the outbox loop of one worker ---------------------------------------------------------------


def test_a_pass_attempts_each_due_decision_and_settles_it() -> None:
    scene = make_outbox_scene()
    pressed_only(scene)

    assert OutboxRunner(scene.ctx).run_once() == 1

    assert scene.store.outbox_depth() == 0
    assert counted(scene) == [("approve", "applied")]


@pytest.mark.parametrize(
    ("onec_down", "attempted"),
    [(False, 1), (True, 0)],
    ids=["1C back: waiting decisions due at once", "1C still down: they keep waiting"],
)
def test_a_worker_asks_1c_before_waiting_out_the_backoff(onec_down: bool, attempted: int) -> None:
    scene = make_outbox_scene()
    entry = pressed_only(scene)
    lease = scene.store.claim(entry.id, NOW.timestamp(), LEASE_SECONDS)
    assert lease is not None
    scene.store.reschedule(entry.id, lease, 5, NOW.timestamp() + BACKOFF_CAP_SECONDS, str(DOWN))
    scene.onec.error = DOWN if onec_down else None

    assert OutboxRunner(scene.ctx).run_once() == attempted

    assert scene.store.outbox_depth() == (1 if onec_down else 0)


class RedisFailsOnce(InMemoryStore):
    """Redis failing once as a settled attempt is recorded (1C has the decision by then)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    def complete(self, entry_id: str, lease: str) -> bool:
        """Fail the first time, then complete."""
        if not self.failed:
            self.failed = True
            raise UpstreamUnavailable("Redis", "connection reset")
        return super().complete(entry_id, lease)


def test_a_lease_held_through_a_redis_failure_is_given_back_and_the_entry_attempted_at_once() -> (
    None
):
    store = RedisFailsOnce()
    scene = make_outbox_scene(store)
    pressed_only(scene)
    runner = OutboxRunner(scene.ctx)

    with pytest.raises(UpstreamUnavailable):
        runner.run_once()
    assert runner.run_once() == 1  # not LEASE_SECONDS later

    assert store.outbox_depth() == 0
    assert len(scene.onec.written) == 1  # the second write was answered from the first
