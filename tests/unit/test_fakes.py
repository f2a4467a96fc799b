"""The shared fakes answer as the real parts do (the store's checks are in
tests/integration/test_store_contract.py, run on Redis too)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from gateway.domain.records import MessageRef
from gateway.domain.tasks import Decision, TaskState
from gateway.errors import (
    AlreadyCompleted,
    GatewayError,
    InvalidRequest,
    NotFound,
    NotPerformer,
    RateLimited,
    RecipientBlocked,
    StaleDecision,
    UpstreamUnavailable,
)
from gateway.ports.messenger import Attachment
from tests.factories import make_link, make_request, make_task
from tests.fakes import (
    NOW,
    SECRET,
    FakeMessenger,
    FakeOneC,
    InMemoryStore,
    ManualClock,
    make_context,
)


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"task_id": "unknown"}, NotFound),
        ({"decision": Decision.RETURN_PREVIOUS}, InvalidRequest),
        ({"user_id": "someone-else"}, NotPerformer),
        ({"expected_version": "older"}, StaleDecision),
        ({"expected_subject_version": "older"}, StaleDecision),
    ],
)
def test_fake_1c_refuses_a_decision_as_contract_v1_does(
    change: dict[str, Any], refusal: type[GatewayError]
) -> None:
    onec = FakeOneC([make_task(subject_version="AAAAAg==")])
    request = replace(make_request(), **change)
    with pytest.raises(refusal):
        onec.submit_decision(request)
    assert onec.written == [] and onec.requests == [request]


def test_fake_1c_applies_a_decision_once_and_a_retry_gets_the_same_answer() -> None:
    onec = FakeOneC([make_task()])
    request = make_request(expected_version=make_task().version)
    done = onec.submit_decision(request)
    assert done.state is TaskState.COMPLETED and done.result is not None
    assert (done.result.decision, done.result.user_id, done.result.at) == (
        Decision.APPROVE,
        "performer-of-task-1",
        NOW,
    )
    assert onec.submit_decision(request) == done  # the same key: applied once
    assert onec.written == [request]
    with pytest.raises(AlreadyCompleted):
        onec.submit_decision(make_request(key="another-press"))
    assert onec.pending_tasks() == [] and onec.get_task("task-1") == done


def test_fake_1c_answers_the_set_outcome_or_fails_every_call_while_down() -> None:
    onec = FakeOneC([make_task()], groups={"Согласующие": frozenset({"u-1"})})
    onec.outcome = RateLimited("1C", 1)
    with pytest.raises(RateLimited):
        onec.submit_decision(make_request())
    onec.error = UpstreamUnavailable("1C", "connection refused")
    with pytest.raises(UpstreamUnavailable):
        onec.pending_tasks()
    onec.error = None
    assert onec.group_members("Согласующие") == {"u-1"}
    with pytest.raises(NotFound):
        onec.group_members("Нет такой")


def test_fake_1c_finds_linked_users_by_their_exact_number() -> None:
    onec = FakeOneC()
    link = make_link(501, "onec-501", phone="79120000501")
    onec.add_users_of(link)
    assert [u.id for u in onec.find_users_by_phone("+79120000501")] == ["onec-501"]
    assert onec.find_users_by_phone("+89120000501") == []
    assert onec.phone_queries == ["+79120000501", "+89120000501"]


def test_fake_messenger_counts_message_ids_per_chat_and_records_every_call() -> None:
    messenger = FakeMessenger(blocked={666})
    first = messenger.send_text(1, "a")
    document = messenger.send_document(1, Attachment("f.pdf", content=b"%PDF"), "b")
    again = messenger.send_document(2, Attachment("f.pdf", file_id=document.file_id), "c")
    assert [first.ref, document.ref, again.ref] == [
        MessageRef(1, 1),
        MessageRef(1, 2),
        MessageRef(2, 1),
    ]
    assert (document.file_id, again.file_id, messenger.uploads) == ("file-1", "file-1", 1)
    messenger.edit(first.ref, "a2", is_caption=False)
    messenger.answer_callback("cb", "ok")
    assert (messenger.to(1), messenger.edited(1), messenger.answer_texts()) == (
        ["a", "b"],
        "a2",
        ["ok"],
    )
    with pytest.raises(RecipientBlocked):
        messenger.send_text(666, "x")
    messenger.gone.add(first.ref)
    with pytest.raises(NotFound):
        messenger.edit(first.ref, "a3", is_caption=False)


def test_make_context_wires_one_store_and_takes_overrides() -> None:
    store, clock = InMemoryStore(), ManualClock()
    ctx = make_context(store, now=clock, prompts=InMemoryStore())
    assert ctx.links is store and ctx.outbox is store and ctx.prompts is not store
    assert ctx.secret == SECRET and ctx.now() == NOW
    clock.advance(minutes=5)
    assert ctx.now() == NOW + timedelta(minutes=5)
