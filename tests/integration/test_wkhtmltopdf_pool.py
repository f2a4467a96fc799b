"""Long-lived wkhtmltopdf processes: reused document after document, never mixing documents,
replaced when they die, fail or age, closed when idle or when their engine is dropped."""

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
from adapters.pdf.wkhtmltopdf import start_process
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
