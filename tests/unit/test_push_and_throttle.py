"""Push signatures from 1C, and the throttled messenger's obedience to the rate limiter."""

from __future__ import annotations

import json
import threading
import time

import pytest

from adapters.telegram.throttle import ThrottledMessenger
from gateway.domain.records import MessageRef
from gateway.errors import RateLimited
from gateway.usecases import push
from tests.fakes import FakeMessenger

SECRET = "push-secret-0123456789"
BODY = json.dumps({"events": [{"seq": 1, "type": "created", "task_id": "t-1"}]}).encode()


def test_a_signed_push_within_the_window_names_its_tasks() -> None:
    signature = push.sign(SECRET, 1_800_000_000, BODY)
    received = push.verify(SECRET, "1800000000", signature, BODY, now=1_800_000_100)
    assert received.task_ids == ["t-1"]
    assert received.events == 1


@pytest.mark.parametrize(
    ("timestamp", "signature", "now", "reason"),
    [
        (None, "sha256=00", 0, "missing"),
        ("1800000000", None, 1_800_000_000, "missing"),
        ("soon", "sha256=00", 0, "not unix seconds"),
        ("1800000000", "sha256=" + "0" * 64, 1_800_000_000, "bad signature"),
        ("1800000000", "valid", 1_800_000_301, "outside the 5-minute window"),
        ("1800000000", "valid", 1_799_999_699, "outside the 5-minute window"),
    ],
)
def test_a_bad_old_or_future_push_is_rejected(
    timestamp: str | None, signature: str | None, now: float, reason: str
) -> None:
    if signature == "valid":
        signature = push.sign(SECRET, 1_800_000_000, BODY)
    with pytest.raises(push.PushRejected, match=reason):
        push.verify(SECRET, timestamp, signature, BODY, now)


def test_a_signature_over_another_body_is_rejected() -> None:
    signature = push.sign(SECRET, 1_800_000_000, BODY)
    with pytest.raises(push.PushRejected, match="bad signature"):
        push.verify(SECRET, "1800000000", signature, BODY + b" ", 1_800_000_000)


def test_a_signed_body_that_is_not_an_event_list_is_rejected() -> None:
    body = b'{"events": "none"}'
    with pytest.raises(push.PushRejected, match="events"):
        push.verify(SECRET, "1800000000", push.sign(SECRET, 1_800_000_000, body), body, 1.8e9)


def test_with_no_push_key_even_a_push_signed_with_an_empty_key_is_rejected() -> None:
    signature = push.sign("", 1_800_000_000, BODY)
    with pytest.raises(push.PushRejected, match="pushes are off"):
        push.verify("", "1800000000", signature, BODY, now=1_800_000_000)


class ScriptedLimiter:
    """Answers waits from a script, then 0; records pauses."""

    def __init__(self, waits: list[float]) -> None:
        self.waits = list(waits)
        self.pauses: list[float] = []
        self.ended_sends = 0

    def acquire(self, chat_id: int) -> float:
        return self.waits.pop(0) if self.waits else 0.0

    def ended(self) -> None:
        self.ended_sends += 1

    def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)


def flooded(floods: int) -> FakeMessenger:
    """Telegram answering 429 (retry after 3 s) to the first `floods` calls."""
    return FakeMessenger(failures=[RateLimited("Telegram", 3) for _ in range(floods)])


def test_a_send_waits_as_long_as_the_limiter_says() -> None:
    slept: list[float] = []
    messenger = ThrottledMessenger(flooded(0), ScriptedLimiter([0.5, 0.25]), slept.append)
    messenger.send_text(1, "привет")
    assert slept == [0.5, 0.25]


def test_a_429_pauses_every_sender_and_the_message_still_goes() -> None:
    slept: list[float] = []
    inner = flooded(1)
    limiter = ScriptedLimiter([])
    messenger = ThrottledMessenger(inner, limiter, slept.append)
    messenger.edit(MessageRef(1, 1), "текст", is_caption=False)
    assert limiter.pauses == [3.0]
    assert slept == [3.0]
    assert [edit.html for edit in inner.edits] == ["текст"]
    assert messenger.rate_limited == 1


def test_every_send_let_through_is_reported_ended_answered_or_refused() -> None:
    limiter = ScriptedLimiter([0.5])
    messenger = ThrottledMessenger(flooded(1), limiter, lambda _: None)
    messenger.send_text(1, "первое")  # a wait, a 429, then the send
    assert limiter.ended_sends == 2


def test_endless_429s_give_up_with_the_error() -> None:
    messenger = ThrottledMessenger(flooded(100), ScriptedLimiter([]), lambda _: None)
    with pytest.raises(RateLimited):
        messenger.send_text(1, "x")


class OneAtATimeLimiter:
    """Says "wait 20 ms" to every other ask, and notes whether two asks ever overlapped."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.asking = 0
        self.most_at_once = 0
        self.asks = 0

    def acquire(self, chat_id: int) -> float:
        with self.lock:
            self.asking += 1
            self.asks += 1
            self.most_at_once = max(self.most_at_once, self.asking)
            wait = 0.02 if self.asks % 2 else 0.0
        time.sleep(0.001)  # the Redis round trip, long enough for a second asker to show up
        with self.lock:
            self.asking -= 1
        return wait

    def ended(self) -> None: ...

    def pause(self, seconds: float) -> None: ...


def test_senders_of_one_process_ask_the_limiter_in_turn() -> None:
    limiter = OneAtATimeLimiter()
    inner = flooded(0)
    messenger = ThrottledMessenger(inner, limiter)
    threads = [
        threading.Thread(target=messenger.send_text, args=(chat, f"card {chat}"))
        for chat in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(inner.texts()) == sorted(f"card {chat}" for chat in range(8))
    assert limiter.most_at_once == 1


def test_a_long_wait_is_slept_outside_the_turn() -> None:
    slept: list[tuple[float, bool]] = []
    limiter = ScriptedLimiter([0.05, 0.9, 0.05])  # short, a chat's own limit, short

    def sleep(seconds: float) -> None:
        slept.append((seconds, messenger._turn.locked()))  # are other senders held back?

    messenger = ThrottledMessenger(flooded(0), limiter, sleep)

    messenger.send_text(1, "x")
    assert slept == [(0.05, True), (0.9, False), (0.05, True)]
