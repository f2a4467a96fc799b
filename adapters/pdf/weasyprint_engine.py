"""The `weasyprint` engine: WeasyPrint in processes of its own, bounded in time and memory.

WeasyPrint runs no JavaScript. Every resource it would load (images, style sheets, fonts by
URL, SVG references) goes through a fetcher that answers only `data:` URLs and refuses
everything else: no file://, no http(s)://, no redirects. Fonts come from fontconfig (DejaVu
Sans from fonts-dejavu-core), never by URL. Page numbers come from CSS `@page` margin boxes.

It does not run in the gateway's process: a hostile or huge document could hold the worker's
thread and memory for as long as it likes. Each document goes to a WeasyPrint process
(weasyprint_child.py) kept in the same pool as wkhtmltopdf's (wkhtmltopdf_pool.py): the
process caps its address space (RLIMIT_AS) before loading WeasyPrint, and one that runs past
the timeout is killed and replaced. Its environment holds no secret of the gateway's.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import subprocess
import sys
import tempfile
import weakref
from dataclasses import dataclass
from importlib import metadata
from typing import IO, Final

from adapters.pdf import weasyprint_child as child
from adapters.pdf.wkhtmltopdf_pool import KeptProcess, RenderPool, stop_process
from gateway.errors import ConfigurationError, RenderFailed
from gateway.ports.documents import PdfEngine

NAME: Final = PdfEngine.WEASYPRINT
DEFAULT_TIMEOUT_SECONDS: Final = 60.0
# Python and WeasyPrint with Pango take about 300 MB of address space (a 200-row document adds
# little); the rest is room for a document near the row and size bounds.
MEMORY_LIMIT_BYTES: Final = 1024**3
# Starting a process (Python, WeasyPrint, Pango, fonts) costs about half a second: kept longer
# than wkhtmltopdf's, as most gateways send a few documents an hour.
IDLE_SECONDS: Final = 600.0
INSTALL_HINT: Final = (
    "install Pango (Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0) "
    "or set PDF_ENGINE=pdfkit"
)
_EXIT_WAIT_SECONDS: Final = 2.0


@dataclass(frozen=True, slots=True)
class Rendition:
    """A PDF and the URLs the fetcher refused while making it."""

    pdf: bytes
    refused: tuple[str, ...]


class WeasyPrintProcess(KeptProcess):
    """One WeasyPrint process: a document in on stdin, its answer out on stdout."""

    def __init__(self, memory_limit: int | None) -> None:
        super().__init__()
        self._answers: queue.Queue[tuple[bytes, bytes, tuple[str, ...]]] = queue.Queue()
        self._process = subprocess.Popen(
            # By path, isolated (-I): the child imports WeasyPrint and the standard library only.
            [sys.executable, "-I", child.__file__, str(memory_limit or 0)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=_environment(),
            cwd=tempfile.gettempdir(),
        )
        self._start_reader("weasyprint")

    def render(self, html: bytes, timeout: float) -> Rendition:
        """The PDF of `html`; RenderFailed (and the process closed) when it fails or runs long."""
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(child.LENGTH.pack(len(html)) + html)
            self._process.stdin.flush()
            status, payload, refused = self._answers.get(timeout=timeout)
        except OSError:  # it died before reading the document
            status, payload, refused = self._exit_answer()
        except queue.Empty:
            self.close()
            raise RenderFailed(NAME, f"WeasyPrint took over {timeout:g} s; stopped") from None
        if status == child.OK:
            self._served()
            return Rendition(payload, refused)
        self.close()
        detail = payload.decode("utf-8", "replace")[:300]
        if status == child.CANNOT_START:
            raise ConfigurationError(f"WeasyPrint cannot start ({detail}): {INSTALL_HINT}")
        raise RenderFailed(NAME, detail)

    def close(self) -> None:
        """Stop the process (end of input, then a kill if it lingers)."""
        stop_process(self._process, self._reader, self._process.stdout)

    def _exit_answer(self) -> tuple[bytes, bytes, tuple[str, ...]]:
        try:
            return self._answers.get(timeout=_EXIT_WAIT_SECONDS)
        except queue.Empty:
            return child.FAILED, b"the WeasyPrint process ended without an answer", ()

    def _read_answers(self) -> None:
        """One queue entry per answer; at end of output, one saying how the process ended."""
        assert self._process.stdout is not None
        stream = self._process.stdout
        while (status := stream.read(1)) and (answer := _read_parts(stream)) is not None:
            payload, refused = answer
            self._answers.put((status, payload, refused))
        code = self._process.wait()
        reason = "out of memory or killed" if code < 0 else "failed"
        ended = f"the WeasyPrint process ended ({reason}, exit code {code})"
        self._answers.put((child.FAILED, ended.encode(), ()))


def _read_parts(stream: IO[bytes]) -> tuple[bytes, tuple[str, ...]] | None:
    """The payload and refused URLs of one answer; None when the output ends inside it."""
    parts = []
    for _ in range(2):
        header = child.read_exactly(stream, child.LENGTH.size)
        body = child.read_exactly(stream, child.LENGTH.unpack(header)[0]) if header else None
        if body is None:
            return None
        parts.append(body)
    return parts[0], tuple(json.loads(parts[1]))


class WeasyPrintEngine:
    """HTML → PDF with WeasyPrint, in pooled processes of its own."""

    name: Final = NAME
    page_numbers: Final = True

    def __init__(
        self,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        memory_limit_bytes: int | None = MEMORY_LIMIT_BYTES,
    ) -> None:
        self._timeout = timeout_seconds
        self._pool: RenderPool[Rendition] = RenderPool(
            functools.partial(WeasyPrintProcess, memory_limit_bytes), idle_seconds=IDLE_SECONDS
        )
        self.last_refused: tuple[str, ...] = ()
        # A dropped engine takes its processes along (tests make many renderers).
        weakref.finalize(self, self._pool.close)

    def describe(self) -> str:
        """`WeasyPrint 70.0`, for the document's footer."""
        try:
            return f"WeasyPrint {metadata.version('weasyprint')}"
        except metadata.PackageNotFoundError:
            return "WeasyPrint"

    def to_pdf(self, html: str) -> bytes:
        """The PDF of `html` (already neutralised); RenderFailed when the engine fails."""
        try:
            rendition = self._pool.render(html.encode("utf-8"), self._timeout)
        except OSError as exc:
            raise ConfigurationError(f"cannot start WeasyPrint ({exc}): {INSTALL_HINT}") from exc
        self.last_refused = rendition.refused
        if not rendition.pdf.startswith(b"%PDF-"):
            raise RenderFailed(NAME, "WeasyPrint wrote no PDF")
        return rendition.pdf

    def close(self) -> None:
        """Stop the idle WeasyPrint processes (they also stop when idle for ten minutes)."""
        self._pool.close()


def _environment() -> dict[str, str]:
    # Nothing of the gateway's environment (tokens, passwords): what Python and fontconfig need.
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": tempfile.gettempdir(),
    }
