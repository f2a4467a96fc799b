"""The deadline that lets the outbox mark a card while a slow write to 1C is still going."""

from __future__ import annotations

import threading

import pytest

from gateway.errors import UpstreamUnavailable
from gateway.scheduling.deadline import Deadline, InlineDeadline, ThreadDeadline
from gateway.scheduling.executors import ThreadExecutor


def test_a_quick_call_returns_its_result_and_nothing_else_happens() -> None:
    deadline = ThreadDeadline()
    slow: list[str] = []
    assert deadline.run(lambda: 42, 5.0, lambda: slow.append("slow")) == 42
    assert slow == []
    deadline.shutdown()


def test_a_slow_call_gets_its_reaction_in_the_callers_thread_before_its_result() -> None:
    """The call cannot finish until the reaction ran: the reaction comes while it is going."""
    deadline = ThreadDeadline()
    reacted = threading.Event()
    seen: list[str] = []

    def call() -> str:
        seen.append("call started")
        assert reacted.wait(5.0)
        seen.append("call finished")
        return "written"

    def when_slow() -> None:
        seen.append(f"reaction on {threading.current_thread().name}")
        reacted.set()

    assert deadline.run(call, 0.01, when_slow) == "written"
    assert seen == [
        "call started",
        f"reaction on {threading.current_thread().name}",
        "call finished",
    ]
    deadline.shutdown()


def test_the_calls_exception_reaches_the_caller() -> None:
    deadline = ThreadDeadline()

    def call() -> None:
        raise UpstreamUnavailable("1C", "connection refused")

    with pytest.raises(UpstreamUnavailable):
        deadline.run(call, 5.0, lambda: None)
    deadline.shutdown()


def test_calls_share_a_few_long_lived_threads_instead_of_one_each() -> None:
    deadline = ThreadDeadline(ThreadExecutor(2, "test_deadline"))
    names = {
        deadline.run(lambda: threading.current_thread().name, 5.0, lambda: None) for _ in range(20)
    }
    assert names <= {"test_deadline_0", "test_deadline_1"}
    deadline.shutdown()
    assert not [t for t in threading.enumerate() if t.name.startswith("test_deadline")]


@pytest.mark.parametrize(("slow", "expected"), [(False, ["call"]), (True, ["slow", "call"])])
def test_the_inline_deadline_is_slow_only_when_told(slow: bool, expected: list[str]) -> None:
    deadline: Deadline = InlineDeadline(slow=slow)
    seen: list[str] = []

    def call() -> int:
        seen.append("call")
        return 7

    assert deadline.run(call, 0.5, lambda: seen.append("slow")) == 7
    assert seen == expected
