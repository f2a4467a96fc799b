"""Long-lived engine processes, each rendering one document at a time (wkhtmltopdf here; the
pool also keeps WeasyPrint's processes, see weasyprint_engine.py).

Starting wkhtmltopdf (Qt, WebKit, fonts) costs about three quarters of the CPU of rendering a
one-page document, so a process is kept and fed with `--read-args-from-stdin`: one line per
document naming its input and output files in the process's private directory. wkhtmltopdf
answers each line on stderr with "Done", or with an error and its exit. A process that fails,
hangs or times out is killed and never reused; one that rendered PROCESS_DOCUMENTS documents
or sat idle for IDLE_SECONDS is closed. When the Python process dies, the pipe closes and
wkhtmltopdf exits at end of input. Each process runs under an address-space limit
(RLIMIT_AS), so a document that needs too much memory fails alone instead of the machine.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import resource
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import IO, Final, Generic, Protocol, TypeVar

from gateway.errors import RenderFailed
from gateway.ports.documents import PdfEngine

PROCESS_DOCUMENTS: Final = 200  # then a fresh process: WebKit's caches and leaks stay bounded
IDLE_SECONDS: Final = 60.0  # an idle process holds about 50 MB
_EXIT_WAIT_SECONDS: Final = 2.0  # for the error line of a process that has just died
# Progress output is not news: bars, stage names, and the warning about unpatched Qt that
# every document repeats.
_NOISE: Final = ("[", "Loading page", "Printing pages", "The switch ", "Done", "Counting pages")

_BACKTRACE = re.compile(r"^\d+\s+0x[0-9a-f]+ ")  # the frames WebKit prints as it crashes

R_co = TypeVar("R_co", covariant=True)
R = TypeVar("R")


def stop_process(
    process: subprocess.Popen[bytes], reader: threading.Thread, stream: IO[bytes] | None
) -> None:
    """End a kept rendering process: end of input, a kill if it lingers, then its reader thread
    and the stream that thread read (closed only once the thread is done with it)."""
    try:
        if process.stdin is not None:
            process.stdin.close()
    except OSError:
        pass  # already gone
    try:
        process.wait(timeout=1)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    reader.join(timeout=_EXIT_WAIT_SECONDS)
    if stream is not None and not reader.is_alive():
        stream.close()


class PooledProcess(Protocol[R_co]):
    """An engine process as the pool keeps it: renders one document at a time."""

    documents: int
    last_used: float

    @property
    def alive(self) -> bool: ...

    def render(self, html: bytes, timeout: float) -> R_co: ...

    def close(self) -> None: ...


class KeptProcess(ABC):
    """What every engine process the pool keeps shares: the child process, the thread reading
    its answers (`_read_answers`, one per engine), and the counts the pool retires it by."""

    _process: subprocess.Popen[bytes]
    _reader: threading.Thread

    def __init__(self) -> None:
        self.documents = 0
        self.last_used = time.monotonic()

    @property
    def pid(self) -> int:
        """The process id (for logs and tests)."""
        return self._process.pid

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self._process.poll() is None

    def _start_reader(self, name: str) -> None:
        """Start the thread that turns the process's output into answers."""
        self._reader = threading.Thread(target=self._read_answers, name=name, daemon=True)
        self._reader.start()

    @abstractmethod
    def _read_answers(self) -> None:
        """Each engine's own: its output turned into answers, until the process ends."""

    def _served(self) -> None:
        """One more document done: it counts toward PROCESS_DOCUMENTS, and idling starts now."""
        self.documents += 1
        self.last_used = time.monotonic()


def limit_memory(pid: int, limit_bytes: int | None) -> None:
    """Cap the address space of process `pid` (RLIMIT_AS); None leaves it unbounded."""
    if limit_bytes is None:
        return
    # A process that has already exited fails its first document and says why.
    with contextlib.suppress(ProcessLookupError):
        resource.prlimit(pid, resource.RLIMIT_AS, (limit_bytes, limit_bytes))


class RenderProcess(KeptProcess):
    """One wkhtmltopdf process in `--read-args-from-stdin` mode, with its own directory.

    `command` holds every option but the files; the refusing proxy port is held bound for the
    process's whole life so no one else can listen there (see wkhtmltopdf.py). The address
    space is capped at `memory_limit` bytes before the first document (set from outside with
    prlimit: a `preexec_fn` is unsafe in a process with threads).
    """

    def __init__(
        self,
        command: Sequence[str],
        env: dict[str, str],
        runtime_dir: str,
        memory_limit: int | None = None,
    ) -> None:
        super().__init__()
        self._dir = tempfile.mkdtemp(prefix="page-", dir=runtime_dir)
        self._proxy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._proxy.bind(("127.0.0.1", 0))
        port = int(self._proxy.getsockname()[1])
        self._events: queue.Queue[tuple[bool, str]] = queue.Queue()
        try:
            self._process = subprocess.Popen(
                [*command, "--proxy", f"http://127.0.0.1:{port}", "--read-args-from-stdin"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=env,
            )
        except BaseException:
            self._release_files()
            raise
        limit_memory(self._process.pid, memory_limit)
        self._start_reader("wkhtmltopdf")

    def render(self, html: bytes, timeout: float) -> bytes:
        """The PDF of `html`; RenderFailed (and the process closed) when it fails or hangs."""
        source = os.path.join(self._dir, "page.html")
        target = os.path.join(self._dir, "page.pdf")
        with open(source, "wb") as page:
            page.write(html)
        if os.path.exists(target):
            os.unlink(target)  # a PDF left from the last document must never pass for this one
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(f'"{source}" "{target}"\n'.encode())
            self._process.stdin.flush()
            done, detail = self._events.get(timeout=timeout)
        except OSError:  # it died before reading the line
            done, detail = False, self._exit_detail()
        except queue.Empty:
            self.close()
            raise RenderFailed(PdfEngine.PDFKIT, f"wkhtmltopdf took over {timeout:g} s") from None
        if not done:
            self.close()
            raise RenderFailed(PdfEngine.PDFKIT, f"wkhtmltopdf failed: {detail}")
        try:
            with open(target, "rb") as result:
                pdf = result.read()
        except OSError:
            pdf = b""
        self._served()
        return pdf

    def close(self) -> None:
        """Stop the process (end of input, then a kill if it lingers) and remove its files."""
        stop_process(self._process, self._reader, self._process.stderr)
        self._release_files()

    def _release_files(self) -> None:
        self._proxy.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _exit_detail(self) -> str:
        try:
            _, detail = self._events.get(timeout=_EXIT_WAIT_SECONDS)
        except queue.Empty:
            return "no answer"
        return detail

    def _read_answers(self) -> None:
        """Turn stderr into one event per document: (True, "") or (False, the last error)."""
        assert self._process.stderr is not None
        fd = self._process.stderr.fileno()
        pending = b""
        last_error = ""
        while chunk := os.read(fd, 4096):
            *lines, pending = (pending + chunk).replace(b"\r", b"\n").split(b"\n")
            for raw in lines:
                line = raw.decode("utf-8", "replace").strip()
                if line == "Done":
                    self._events.put((True, ""))
                    last_error = ""
                elif line and not line.startswith(_NOISE) and not _BACKTRACE.match(line):
                    last_error = line[:300]
        code = self._process.wait()
        if code < 0:  # WebKit crashes (SIGSEGV) when an allocation fails under the memory limit
            last_error = f"ended on signal {-code} (out of memory, or a crash)"
        self._events.put((False, last_error or f"exit code {code}, no PDF"))


class RenderPool(Generic[R]):
    """Idle engine processes for callers on any thread; a process serves one caller at a time."""

    def __init__(
        self,
        start: Callable[[], PooledProcess[R]],
        *,
        max_documents: int = PROCESS_DOCUMENTS,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self._start = start
        self._max_documents = max_documents
        self._idle_seconds = idle_seconds
        self._idle: list[PooledProcess[R]] = []
        self._lock = threading.Lock()
        self._owner = os.getpid()
        self._reaping = False

    def render(self, html: bytes, timeout: float) -> R:
        """Render on an idle process, or a new one when all are busy."""
        process = self._checkout() or self._start()
        pdf = process.render(html, timeout)  # closes the process itself when it fails
        self._checkin(process)
        return pdf

    def close(self) -> None:
        """Close every idle process (busy ones are closed when their caller returns them)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for process in idle:
            process.close()

    def idle(self) -> int:
        """Processes waiting for a document."""
        with self._lock:
            return len(self._idle)

    def _checkout(self) -> PooledProcess[R] | None:
        with self._lock:
            if os.getpid() != self._owner:  # forked: the parent's pipes are not ours to use
                self._idle, self._owner = [], os.getpid()
            while self._idle:
                process = self._idle.pop()
                if process.alive:
                    return process
                process.close()
        return None

    def _checkin(self, process: PooledProcess[R]) -> None:
        if process.documents >= self._max_documents or not process.alive:
            process.close()
            return
        with self._lock:
            self._idle.append(process)
            if self._reaping:
                return
            self._reaping = True
        threading.Thread(target=self._reap, name="wkhtmltopdf-reaper", daemon=True).start()

    def _reap(self) -> None:
        """Close processes idle for `idle_seconds`; the thread ends when none is left."""
        while True:
            time.sleep(self._idle_seconds / 4)
            with self._lock:
                now = time.monotonic()
                stale = [p for p in self._idle if now - p.last_used >= self._idle_seconds]
                self._idle = [p for p in self._idle if p not in stale]
                finished = not self._idle
                if finished:
                    self._reaping = False  # the next check-in starts a new reaper
            for process in stale:
                process.close()
            if finished:
                return
