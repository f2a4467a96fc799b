"""The executors use cases hand their jobs to: a pool of named threads, and the inline one."""

from __future__ import annotations

import threading

import pytest

from gateway.scheduling.executors import InlineExecutor, ThreadExecutor
from gateway.scheduling.relay import RelayPools


def test_a_thread_executor_runs_jobs_on_its_named_threads_and_starts_again_after_shutdown() -> None:
    executor = ThreadExecutor(2, "send")
    assert executor.submit(lambda: threading.current_thread().name).result(5).startswith("send_")
    executor.shutdown()
    assert executor.submit(lambda: 6 * 7).result(5) == 42
    executor.shutdown()


def test_an_inline_executor_has_run_the_job_on_the_callers_thread_when_submit_returns() -> None:
    done = InlineExecutor().submit(threading.current_thread)
    assert done.done()
    assert done.result() is threading.current_thread()


def test_an_inline_executor_keeps_the_jobs_error_for_whoever_asks_for_the_result() -> None:
    def fail() -> None:
        raise ValueError("broken")

    failed = InlineExecutor().submit(fail)
    with pytest.raises(ValueError, match="broken"):
        failed.result()


def test_the_worker_pools_render_on_pdf_threads_and_send_on_send_threads() -> None:
    pools = RelayPools.threaded()
    names = {pools.send.submit(lambda: threading.current_thread().name).result(5)}
    names.add(pools.prepare.submit(lambda: threading.current_thread().name).result(5))
    pools.shutdown()
    assert {name.split("_")[0] for name in names} == {"send", "pdf"}
