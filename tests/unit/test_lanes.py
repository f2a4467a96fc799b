"""Lanes: one chat's updates in order, other chats never behind it."""

from __future__ import annotations

import functools
import threading

from gateway.scheduling.lanes import Lanes

WAIT = 10.0


def test_jobs_of_one_key_run_one_at_a_time_in_order() -> None:
    lanes = Lanes(4)
    done: list[int] = []
    finished = threading.Event()

    def job(n: int) -> None:
        done.append(n)
        if n == 49:
            finished.set()

    for n in range(50):
        lanes.submit("chat", functools.partial(job, n))
    assert finished.wait(WAIT)
    lanes.stop(WAIT)
    assert done == list(range(50))


def test_a_key_that_waits_holds_back_no_other_key() -> None:
    lanes = Lanes(2)
    release = threading.Event()
    other_done = threading.Event()

    def flood() -> None:
        release.wait(WAIT)

    lanes.submit("flooding chat", flood)
    lanes.submit("flooding chat", flood)
    lanes.submit("approver", other_done.set)
    assert other_done.wait(WAIT)
    assert lanes.wait_below(3, WAIT)
    assert lanes.jobs() == 2  # the flooding chat's jobs, still waiting
    release.set()
    assert lanes.wait_below(1, WAIT)
    lanes.stop(WAIT)


def test_stopping_finishes_the_running_job_and_drops_the_queued_ones() -> None:
    lanes = Lanes(1)
    started = threading.Event()
    release = threading.Event()
    ran: list[str] = []

    def first() -> None:
        started.set()
        release.wait(WAIT)
        ran.append("first")

    lanes.submit("chat", first)
    lanes.submit("chat", lambda: ran.append("second"))
    assert started.wait(WAIT)
    threading.Timer(0.05, release.set).start()
    assert lanes.stop(WAIT) == 1
    assert ran == ["first"]


def test_a_failing_job_does_not_stop_its_lane() -> None:
    lanes = Lanes(1)
    done = threading.Event()

    def fail() -> None:
        raise RuntimeError("boom")

    lanes.submit("chat", fail)
    lanes.submit("chat", done.set)
    assert done.wait(WAIT)
    lanes.stop(WAIT)
