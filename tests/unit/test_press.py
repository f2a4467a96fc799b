"""Every branch of handling a decision button and a return's reason, one table row each.

Each row arranges the press (its data, the card we sent, the task as 1C has it, 1C up or down)
and states what the approver is answered (the text key and whether it is an alert), what is
stored (an outbox entry, a reason prompt, nothing) and what became of the card.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from enum import Enum

import pytest

from gateway.domain.incoming import IncomingPress
from gateway.domain.records import Delivery, MessageRef
from gateway.domain.tasks import Decision, Result, TaskKind, TaskState
from gateway.errors import AuthenticationFailed, GatewayError, UpstreamUnavailable
from gateway.ports.messenger import ForceReply
from gateway.presentation import callbacks
from gateway.usecases.press import on_press, on_reason
from tests.factories import (
    make_delivery,
    make_link,
    make_message,
    make_person,
    make_press,
    make_prompt,
    make_task,
)
from tests.fakes import NOW, SECRET
from tests.unit.scenes import CARD, CHAT, TEXTS, Scene, make_scene

OTHER_CHAT = 300


class Stored(Enum):
    """What a press leaves in the store."""

    NOTHING = "nothing"
    ENTRY = "an outbox entry, the card marked deciding"
    PROMPT = "a reason prompt, asked with ForceReply"


class Card(Enum):
    """What becomes of the pressed card."""

    KEPT = "kept as it was"
    CANCELLED = "closed: cancelled"
    DONE = "closed: who decided in 1C"
    REFRESHED = "closed as superseded, a new card sent"


def make_press_scene() -> Scene:
    """The approver may decide the task, which allows approval and a return; the card shows
    the current task and document versions."""
    link = make_link(CHAT)
    task = make_task(
        performer=make_person(link.onec_user_id),
        subject_version="doc-1",
        allowed_decisions=(Decision.APPROVE, Decision.RETURN_INITIATOR),
    )
    return make_scene(task, [(link, CARD)])


def forget(scene: Scene) -> None:
    """What an arranging step sent, edited or answered is not what a row checks."""
    scene.messenger.sent.clear()
    scene.messenger.edits.clear()
    scene.messenger.answers.clear()
    scene.woken.clear()


# --- arranging each branch: change the scene, return the press ----------------------------------


def forged(scene: Scene) -> IncomingPress:
    data = callbacks.sign("another secret", CHAT, Decision.APPROVE, scene.task.id, "v")
    return make_press(data, chat_id=CHAT, message_id=CARD)


def not_linked(scene: Scene) -> IncomingPress:
    scene.store.delete_link(CHAT)
    return scene.press()


def gone_with_card(scene: Scene) -> IncomingPress:
    del scene.onec.tasks[scene.task.id]
    return scene.press()


def gone_without_card(scene: Scene) -> IncomingPress:
    scene.store.close_delivery(scene.task.id, CHAT)
    return gone_with_card(scene)


def not_an_approval(scene: Scene) -> IncomingPress:
    scene.changed(kind=TaskKind.TASK)
    return scene.press()


def done(scene: Scene) -> IncomingPress:
    result = Result(Decision.APPROVE, "", scene.link.onec_user_id, NOW)
    scene.changed(state=TaskState.COMPLETED, result=result)
    return scene.press()


def cancelled(scene: Scene) -> IncomingPress:
    scene.changed(state=TaskState.CANCELLED)
    return scene.press()


def foreign(scene: Scene) -> IncomingPress:
    scene.changed(performer=make_person("somebody-else"))
    return scene.press()


def taken(scene: Scene) -> IncomingPress:
    other = make_delivery(scene.task, OTHER_CHAT, 7, deciding=Decision.APPROVE.value)
    scene.store.save_delivery(other)
    return scene.press()


def stale_task(scene: Scene) -> IncomingPress:
    scene.changed(version="new-version")
    return scene.press()


def stale_document(scene: Scene) -> IncomingPress:
    scene.changed(subject=replace(scene.task.subject, version="doc-2"))
    return scene.press()


def not_allowed(scene: Scene) -> IncomingPress:
    return scene.press(Decision.RETURN_PREVIOUS)


def needs_reason(scene: Scene) -> IncomingPress:
    return scene.press(Decision.RETURN_INITIATOR)


def accepted(scene: Scene) -> IncomingPress:
    return scene.press()


def pressed_again(scene: Scene) -> IncomingPress:
    on_press(scene.ctx, scene.press())
    forget(scene)
    return scene.press()


PRESSES = [
    # id, arrange, answer key, as an alert, stored, card
    ("forged callback", forged, "alert.forged", True, Stored.NOTHING, Card.KEPT),
    ("not linked", not_linked, "alert.not_linked", True, Stored.NOTHING, Card.KEPT),
    ("task gone", gone_with_card, "alert.cancelled", True, Stored.NOTHING, Card.CANCELLED),
    ("task gone, no card", gone_without_card, "alert.cancelled", True, Stored.NOTHING, None),
    ("not an approval", not_an_approval, "alert.not_approval", True, Stored.NOTHING, Card.KEPT),
    ("done in 1C", done, "alert.done", True, Stored.NOTHING, Card.DONE),
    ("cancelled in 1C", cancelled, "alert.cancelled", True, Stored.NOTHING, Card.CANCELLED),
    ("not a decider", foreign, "alert.foreign", True, Stored.NOTHING, Card.KEPT),
    ("taken by another candidate", taken, "alert.taken", True, Stored.NOTHING, Card.KEPT),
    ("stale task version", stale_task, "alert.stale", True, Stored.NOTHING, Card.REFRESHED),
    ("stale document", stale_document, "alert.stale", True, Stored.NOTHING, Card.REFRESHED),
    ("decision not allowed", not_allowed, "alert.not_allowed", True, Stored.NOTHING, Card.KEPT),
    ("needs a reason", needs_reason, "alert.reason", False, Stored.PROMPT, Card.KEPT),
    ("accepted", accepted, "alert.accepted", False, Stored.ENTRY, Card.KEPT),
    ("pressed again", pressed_again, "alert.in_progress", False, Stored.ENTRY, Card.KEPT),
]


@pytest.mark.parametrize(
    ("arrange", "answer", "alert", "stored", "card"),
    [row[1:] for row in PRESSES],
    ids=[row[0] for row in PRESSES],
)
def test_a_press_with_1c_up(
    arrange: Callable[[Scene], IncomingPress],
    answer: str,
    alert: bool,
    stored: Stored,
    card: Card | None,
) -> None:
    scene = make_press_scene()
    press = arrange(scene)
    before = scene.store.get_delivery(scene.task.id, CHAT)

    on_press(scene.ctx, press)

    assert [(a.callback_id, a.text, a.alert) for a in scene.messenger.answers] == [
        (press.callback_id, TEXTS.t(answer), alert)
    ]
    pressed = None if stored is Stored.NOTHING else callbacks.verify(SECRET, CHAT, press.data)
    assert_stored(scene, stored, pressed.decision if pressed else None)
    assert_card(scene, card, before)


# --- 1C down: a press on the card we sent is taken on trust, 1C checks it later ------------------


def down_no_card(scene: Scene) -> IncomingPress:
    scene.store.close_delivery(scene.task.id, CHAT)
    return scene.press()


def down_other_message(scene: Scene) -> IncomingPress:
    scene.store.save_delivery(make_delivery(scene.task, CHAT, CARD + 10))
    return scene.press()


def down_old_version(scene: Scene) -> IncomingPress:
    return scene.press(version="an older version")


DOWN_PRESSES = [
    ("no card", down_no_card, "alert.unavailable", True, Stored.NOTHING),
    ("pressed an older message", down_other_message, "alert.unavailable", True, Stored.NOTHING),
    ("old version tag", down_old_version, "alert.unavailable", True, Stored.NOTHING),
    ("decided elsewhere", taken, "alert.taken", True, Stored.NOTHING),
    ("needs a reason", needs_reason, "alert.reason", False, Stored.PROMPT),
    ("accepted", accepted, "alert.accepted", False, Stored.ENTRY),
    ("pressed again", pressed_again, "alert.in_progress", False, Stored.ENTRY),
]


@pytest.mark.parametrize(
    "outage",
    [UpstreamUnavailable("1C", "connection refused"), AuthenticationFailed("1C answered a login")],
    ids=["1C unreachable", "1C answers a login page"],
)
@pytest.mark.parametrize(
    ("arrange", "answer", "alert", "stored"),
    [row[1:] for row in DOWN_PRESSES],
    ids=[row[0] for row in DOWN_PRESSES],
)
def test_a_press_with_1c_down(
    outage: GatewayError,
    arrange: Callable[[Scene], IncomingPress],
    answer: str,
    alert: bool,
    stored: Stored,
) -> None:
    scene = make_press_scene()
    scene.onec.error = outage
    press = arrange(scene)
    before = scene.store.get_delivery(scene.task.id, CHAT)

    on_press(scene.ctx, press)

    assert [(a.text, a.alert) for a in scene.messenger.answers] == [(TEXTS.t(answer), alert)]
    decision = callbacks.verify(SECRET, CHAT, press.data).decision
    assert_stored(scene, stored, None if stored is Stored.NOTHING else decision)
    assert_card(scene, Card.KEPT, before)
    if stored is Stored.ENTRY:
        # 1C compares the versions of the card we sent when the decision reaches it.
        request = scene.store.due(math.inf, 10)[0].request
        assert (request.expected_version, request.expected_subject_version) == (
            scene.task.version,
            "doc-1",
        )


# --- the reason of a return ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "told", "stored"),
    [
        ("   ", "reason.empty", Stored.PROMPT),
        (" Не тот контрагент ", None, Stored.ENTRY),
    ],
    ids=["empty reason: asked again", "reason given: the return goes to the outbox"],
)
def test_a_reason_reply(text: str, told: str | None, stored: Stored) -> None:
    scene = make_press_scene()
    prompt = make_prompt(scene.task, CHAT, card_message_id=CARD)
    scene.store.save_prompt(prompt)

    on_reason(scene.ctx, make_message(text, chat_id=CHAT, reply_to=42), prompt, scene.link)

    assert scene.messenger.texts() == ([TEXTS.t(told)] if told else [])
    if stored is Stored.PROMPT:
        assert scene.store.get_prompt(CHAT) == prompt
        assert scene.store.outbox_depth() == 0
    else:
        assert scene.store.get_prompt(CHAT) is None
        request = scene.store.due(math.inf, 10)[0].request
        assert (request.decision, request.comment) == (Decision.RETURN_INITIATOR, text.strip())
        assert request.message == MessageRef(CHAT, CARD)
        assert scene.woken == ["outbox"]


# --- what the rows check ------------------------------------------------------------------------


def assert_stored(scene: Scene, stored: Stored, decision: Decision | None) -> None:
    entries = scene.store.due(math.inf, 10)
    prompt = scene.store.get_prompt(CHAT)
    delivery = scene.store.get_delivery(scene.task.id, CHAT)
    if stored is Stored.NOTHING:
        assert (entries, prompt) == ([], None)
        assert delivery is None or not delivery.deciding
        assert scene.woken == []
    elif stored is Stored.PROMPT:
        assert entries == []
        assert prompt is not None and prompt.decision == decision
        assert prompt.card_message_id == CARD
        (asked,) = scene.messenger.sent
        assert isinstance(asked.markup, ForceReply)
        assert asked.ref.message_id == prompt.prompt_message_id
    else:
        assert decision is not None
        assert [e.request.decision for e in entries] == [decision]
        assert entries[0].request.message == MessageRef(CHAT, CARD)
        assert entries[0].request.user_id == scene.link.onec_user_id
        assert delivery is not None and delivery.deciding == decision.value
        assert prompt is None


def assert_card(scene: Scene, card: Card | None, before: Delivery | None) -> None:
    edits = [(e.ref, e.html) for e in scene.messenger.edits]
    delivery = scene.store.get_delivery(scene.task.id, CHAT)
    if card is None:  # there was no card to do anything with
        assert edits == []
        return
    pressed = MessageRef(CHAT, CARD)
    if card is Card.KEPT:
        assert edits == []
        assert (delivery is None) == (before is None)
        assert delivery is None or before is None or delivery.message_id == before.message_id
        assert all(isinstance(m.markup, ForceReply) for m in scene.messenger.sent)
        return
    (edit,) = edits
    assert edit[0] == pressed
    if card is Card.CANCELLED:
        assert edit[1].endswith(TEXTS.t("outcome.cancelled"))
        assert delivery is None
    elif card is Card.DONE:
        assert scene.link.onec_user_name in edit[1].rpartition("\n")[2]
        assert delivery is None
    else:
        assert edit[1].endswith(TEXTS.t("outcome.superseded"))
        (new_card,) = scene.messenger.sent
        assert delivery is not None and delivery.message_id == new_card.ref.message_id != CARD
        assert delivery.version == scene.current.version
