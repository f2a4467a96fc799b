"""The `pdfkit` engine: wkhtmltopdf run as locked-down, long-lived subprocesses.

wkhtmltopdf has a server-side request forgery history (CVE-2022-35583: any `<iframe>`/`<img>`
in the HTML is fetched, including http://169.254.169.254/ and file:// URLs). Here:
- `--disable-javascript`, `--disable-local-file-access`, never `--enable-local-file-access`;
- every network request goes to a proxy that refuses connections: a loopback port held bound,
  never listening, for the life of the process (wkhtmltopdf has no switch to turn the network
  off, and Qt sends http, https and ftp through the proxy, loopback included);
- the HTML has been through `hardening.neutralise`, so it holds no URL to fetch anyway;
- a timeout kills a process that hangs; an address-space limit (RLIMIT_AS) stops one that
  grows; the environment is reduced to what wkhtmltopdf needs;
- each process has a private directory holding only the page it renders and that page's PDF.

A process renders many documents in turn (wkhtmltopdf_pool.py): starting wkhtmltopdf was most
of a rendering's cost.

It is called directly rather than through the `pdfkit` package (which keeps the engine's name):
pdfkit 1.0.0 has no timeout and reads `<meta name="pdfkit-...">` tags in the HTML as extra
command-line options. Debian's wkhtmltopdf is built without the patched Qt, so it ignores
`--footer-*`/`--header-*` and CSS page margin boxes: PDFs from this engine have no page numbers.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import tempfile
import weakref
from typing import Final

from adapters.pdf.wkhtmltopdf_pool import RenderPool, RenderProcess
from gateway.errors import ConfigurationError, RenderFailed
from gateway.ports.documents import PdfEngine

log = logging.getLogger(__name__)

NAME: Final = PdfEngine.PDFKIT
DEFAULT_TIMEOUT_SECONDS: Final = 60.0
# Qt and WebKit reserve about 1.4 GB of address space at start (most never used: a process
# holds 60-110 MB); the rest is room for a document near the row and size bounds.
MEMORY_LIMIT_BYTES: Final = 2 * 1024**3
INSTALL_HINT: Final = (
    "install the wkhtmltopdf package (Debian/Ubuntu: apt-get install wkhtmltopdf) "
    "or set PDF_ENGINE=weasyprint"
)


class WkhtmltopdfEngine:
    """HTML → PDF with wkhtmltopdf; `binary` defaults to the one on PATH."""

    name: Final = NAME
    page_numbers: Final = False

    def __init__(
        self,
        binary: str | None = None,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        memory_limit_bytes: int | None = MEMORY_LIMIT_BYTES,
    ) -> None:
        self._binary = binary
        self._timeout = timeout_seconds
        self._version: str | None = None
        self._pool: RenderPool[bytes] = RenderPool(
            functools.partial(start_process, binary, memory_limit_bytes)
        )
        # A dropped engine takes its processes along (tests make many renderers).
        weakref.finalize(self, self._pool.close)

    def binary(self) -> str:
        """The wkhtmltopdf executable; ConfigurationError saying what to install if absent."""
        return _find_binary(self._binary)

    def describe(self) -> str:
        """`wkhtmltopdf 0.12.6`, for the document's footer."""
        if self._version is None:
            try:
                out = subprocess.run(
                    [self.binary(), "--version"],
                    capture_output=True,
                    text=True,
                    timeout=10,
                    env=_environment(),
                    check=False,
                ).stdout.split()
            except (OSError, subprocess.SubprocessError, ConfigurationError):
                out = []
            self._version = f"wkhtmltopdf {out[1]}" if len(out) >= 2 else "wkhtmltopdf"
        return self._version

    def to_pdf(self, html: str) -> bytes:
        """The PDF of `html` (already neutralised); RenderFailed when the engine fails."""
        try:
            pdf = self._pool.render(html.encode("utf-8"), self._timeout)
        except OSError as exc:
            raise ConfigurationError(f"cannot run wkhtmltopdf ({exc}): {INSTALL_HINT}") from exc
        if not _is_whole_pdf(pdf):
            raise RenderFailed(NAME, "wkhtmltopdf answered Done but wrote no whole PDF")
        return pdf

    def close(self) -> None:
        """Stop the idle wkhtmltopdf processes (they also stop when idle for a minute)."""
        self._pool.close()


def _find_binary(binary: str | None) -> str:
    found = shutil.which(binary or "wkhtmltopdf")
    if found is None:
        raise ConfigurationError(f"{binary or 'wkhtmltopdf'} not found: {INSTALL_HINT}")
    return found


def start_process(
    binary: str | None, memory_limit_bytes: int | None = MEMORY_LIMIT_BYTES
) -> RenderProcess:
    """A wkhtmltopdf waiting for documents. Module level: the pool must not keep the engine
    alive, or a dropped engine's processes would outlive it."""
    command = [
        _find_binary(binary),
        "--encoding", "utf-8",
        "--page-size", "A4",
        "--margin-top", "12mm",
        "--margin-bottom", "14mm",
        "--margin-left", "11mm",
        "--margin-right", "11mm",
        "--disable-javascript",
        # The default 200 ms wait "for JavaScript to finish" applies even with JavaScript off;
        # it was two thirds of every rendering's wall time.
        "--javascript-delay", "0",
        "--disable-local-file-access",
        "--disable-plugins",
        "--no-outline",
        "--load-error-handling", "ignore",
        "--load-media-error-handling", "ignore",
    ]  # fmt: skip
    return RenderProcess(command, _environment(), _runtime_dir(), memory_limit_bytes)


def _environment() -> dict[str, str]:
    # No *_proxy variables, no DISPLAY: only what Qt needs to start headless.
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": tempfile.gettempdir(),
        "XDG_RUNTIME_DIR": _runtime_dir(),
        "QT_QPA_PLATFORM": "offscreen",
    }


def _runtime_dir() -> str:
    # Qt wants a private runtime directory and warns on stderr without one.
    path = os.path.join(tempfile.gettempdir(), f"tg1c-wkhtmltopdf-{os.getuid()}")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def _is_whole_pdf(data: bytes) -> bool:
    return data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]
