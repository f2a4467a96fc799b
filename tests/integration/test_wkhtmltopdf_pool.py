"""Long-lived wkhtmltopdf processes: reused document after document, never mixing documents,
replaced when they die, fail, age or run past their time, closed when idle or when their engine
is dropped, each under a memory limit."""

from __future__ import annotations

import functools
import gc
import os
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from adapters.pdf import WkhtmltopdfEngine
from adapters.pdf.wkhtmltopdf import MEMORY_LIMIT_BYTES, start_process
from adapters.pdf.wkhtmltopdf_pool import RenderPool, RenderProcess
from gateway.errors import RenderFailed
from tests.e2e.conftest import wait_for

TIMEOUT = 30.0


class CountingStart:
    """Starts real wkhtmltopdf processes (or `binary`) and keeps each one it started."""

    def __init__(self, binary: str | None = None) -> None:
        self.started: list[RenderProcess] = []
        self._start = functools.partial(start_process, binary)

    def __call__(self) -> RenderProcess:
        process = self._start()
        self.started.append(process)
        return process


def page(marker: str) -> bytes:
    return f"<html><body><h1>Документ {marker}</h1></body></html>".encode()


def text_of(pdf: bytes) -> str:
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def test_one_process_renders_document_after_document() -> None:
    start = CountingStart()
    pool = RenderPool(start)
    try:
        for marker in ("А-1", "Б-2", "В-3"):
            assert f"Документ {marker}" in text_of(pool.render(page(marker), TIMEOUT))
        assert len(start.started) == 1
        assert pool.idle() == 1
    finally:
        pool.close()


def test_documents_rendered_at_once_never_mix() -> None:
    start = CountingStart()
    pool = RenderPool(start)
    found: dict[str, str] = {}

    def render(prefix: str) -> None:
        for n in range(5):
            marker = f"{prefix}{n}"
            found[marker] = text_of(pool.render(page(marker), TIMEOUT))

    threads = [threading.Thread(target=render, args=(p,)) for p in ("X", "Y", "Z")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pool.close()
    assert len(found) == 15
    for marker, text in found.items():
        others = [m for m in found if m != marker and f"Документ {m}" in text]
        assert f"Документ {marker}" in text and not others
    assert len(start.started) <= 3


def test_a_process_killed_between_documents_is_replaced() -> None:
    start = CountingStart()
    pool = RenderPool(start)
    pool.render(page("1"), TIMEOUT)
    os.kill(start.started[0].pid, signal.SIGKILL)
    wait_for(lambda: not start.started[0].alive, "the killed process to exit")
    assert "Документ 2" in text_of(pool.render(page("2"), TIMEOUT))
    assert len(start.started) == 2
    pool.close()


def test_a_process_is_retired_after_its_share_of_documents() -> None:
    start = CountingStart()
    pool = RenderPool(start, max_documents=2)
    for n in range(3):
        pool.render(page(str(n)), TIMEOUT)
    assert len(start.started) == 2
    assert not start.started[0].alive
    pool.close()
    assert not start.started[1].alive


def test_idle_processes_are_closed() -> None:
    start = CountingStart()
    pool = RenderPool(start, idle_seconds=0.4)
    pool.render(page("1"), TIMEOUT)
    wait_for(lambda: pool.idle() == 0 and not start.started[0].alive, "the idle process to close")
    assert "Документ 2" in text_of(pool.render(page("2"), TIMEOUT))  # a new one starts
    pool.close()


def fake_wkhtmltopdf(tmp_path: Path, script: str) -> str:
    binary = tmp_path / "wkhtmltopdf"
    binary.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    binary.chmod(0o755)
    return str(binary)


def test_a_failed_document_is_render_failed_and_the_next_gets_a_fresh_process(
    tmp_path: Path,
) -> None:
    # Renders the first document of each process, then fails the way wkhtmltopdf does: an
    # error line, and exit.
    binary = fake_wkhtmltopdf(
        tmp_path,
        'read line; eval "set -- $line"\n'
        "printf '%%PDF-1.4\\n%%%%EOF\\n' > \"$2\"; printf 'Loading page\\rDone\\n' >&2\n"
        "read line; echo 'Error: Failed loading page http://x (boom)' >&2; exit 1\n",
    )
    start = CountingStart(binary)
    pool = RenderPool(start)
    assert pool.render(page("1"), TIMEOUT).startswith(b"%PDF-")
    with pytest.raises(RenderFailed, match="boom"):
        pool.render(page("2"), TIMEOUT)
    assert pool.render(page("3"), TIMEOUT).startswith(b"%PDF-")
    assert len(start.started) == 2
    assert not start.started[0].alive
    pool.close()


def test_a_dropped_engine_takes_its_processes_along() -> None:
    engine = WkhtmltopdfEngine()
    engine.to_pdf("<p>x</p>")
    process = engine._pool._idle[0]  # the engine does not show its processes otherwise
    del engine
    gc.collect()
    assert not process.alive


def address_space_limit(pid: int) -> int | None:
    """The process's RLIMIT_AS as /proc shows it; None when unlimited."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max address space"):
            soft = line.split()[3]
            return None if soft == "unlimited" else int(soft)
    raise AssertionError("no address space line")


def long_page(rows: int) -> bytes:
    cells = "".join(f"<tr><td>{n}</td><td>Строка {n}</td></tr>" for n in range(rows))
    return f"<html><body><table>{cells}</table></body></html>".encode()


def test_every_wkhtmltopdf_process_runs_under_a_memory_limit() -> None:
    engine = WkhtmltopdfEngine()
    engine.to_pdf("<p>x</p>")
    process = engine._pool._idle[0]
    assert isinstance(process, RenderProcess)
    assert address_space_limit(process.pid) == MEMORY_LIMIT_BYTES
    engine.close()


def test_a_document_past_the_memory_limit_fails_alone_and_the_next_renders() -> None:
    # Below what Qt reserves at start: wkhtmltopdf cannot even lay out the page.
    starved = RenderPool(functools.partial(start_process, None, 1_000_000_000))
    with pytest.raises(RenderFailed, match="out of memory"):
        starved.render(page("1"), TIMEOUT)
    starved.close()
    pool = RenderPool(CountingStart())
    assert "Документ 2" in text_of(pool.render(page("2"), TIMEOUT))
    pool.close()


def test_a_real_document_past_its_time_is_stopped_and_the_next_gets_a_fresh_process() -> None:
    start = CountingStart()
    pool = RenderPool(start)
    with pytest.raises(RenderFailed, match="took over"):
        pool.render(long_page(5000), 0.01)
    assert not start.started[0].alive
    assert "Документ 3" in text_of(pool.render(page("3"), TIMEOUT))
    assert len(start.started) == 2
    pool.close()
