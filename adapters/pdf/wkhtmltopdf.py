"""The `pdfkit` engine: wkhtmltopdf run as a locked-down subprocess, HTML through stdin.

wkhtmltopdf has a server-side request forgery history (CVE-2022-35583: any `<iframe>`/`<img>`
in the HTML is fetched, including http://169.254.169.254/ and file:// URLs). Here:
- `--disable-javascript`, `--disable-local-file-access`, never `--enable-local-file-access`;
- every network request goes to a proxy that refuses connections: a loopback port held bound,
  never listening, for the length of the run (wkhtmltopdf has no switch to turn the network off, and
  Qt sends http, https and ftp through the proxy, loopback included);
- the HTML has been through `hardening.neutralise`, so it holds no URL to fetch anyway;
- a timeout kills a run that hangs; the environment is reduced to what wkhtmltopdf needs.

It is called directly rather than through the `pdfkit` package (which keeps the engine's name):
pdfkit 1.0.0 has no timeout and reads `<meta name="pdfkit-...">` tags in the HTML as extra
command-line options. Debian's wkhtmltopdf is built without the patched Qt, so it ignores
`--footer-*`/`--header-*` and CSS page margin boxes: PDFs from this engine have no page numbers.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from gateway.errors import ConfigurationError, RenderFailed

log = logging.getLogger(__name__)

NAME: Final = "pdfkit"
DEFAULT_TIMEOUT_SECONDS: Final = 60.0
INSTALL_HINT: Final = (
    "install the wkhtmltopdf package (Debian/Ubuntu: apt-get install wkhtmltopdf) "
    "or set PDF_ENGINE=weasyprint"
)
# wkhtmltopdf exits 1 when a resource failed to load; with fetches refused on purpose that is
# the expected outcome, as long as a whole PDF came out.
_EXIT_OK: Final = (0, 1)


class WkhtmltopdfEngine:
    """HTML → PDF with wkhtmltopdf; `binary` defaults to the one on PATH."""

    name: Final = NAME
    page_numbers: Final = False

    def __init__(
        self, binary: str | None = None, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        self._binary = binary
        self._timeout = timeout_seconds
        self._version: str | None = None

    def binary(self) -> str:
        """The wkhtmltopdf executable; ConfigurationError saying what to install if absent."""
        found = shutil.which(self._binary or "wkhtmltopdf")
        if found is None:
            wanted = self._binary or "wkhtmltopdf"
            raise ConfigurationError(f"{wanted} not found: {INSTALL_HINT}")
        return found

    def describe(self) -> str:
        """`wkhtmltopdf 0.12.6`, for the document's footer."""
        if self._version is None:
            try:
                out = subprocess.run(
                    [self.binary(), "--version"],
                    capture_output=True,
                    text=True,
                    timeout=10,
                    env=self._environment(),
                    check=False,
                ).stdout.split()
            except (OSError, subprocess.SubprocessError, ConfigurationError):
                out = []
            self._version = f"wkhtmltopdf {out[1]}" if len(out) >= 2 else "wkhtmltopdf"
        return self._version

    def to_pdf(self, html: str) -> bytes:
        """The PDF of `html` (already neutralised); RenderFailed when the engine fails."""
        with _refusing_port() as proxy_port:
            return self._run(html, proxy_port)

    def _run(self, html: str, proxy_port: int) -> bytes:
        command = [
            self.binary(),
            "--quiet",
            "--encoding", "utf-8",
            "--page-size", "A4",
            "--margin-top", "12mm",
            "--margin-bottom", "14mm",
            "--margin-left", "11mm",
            "--margin-right", "11mm",
            "--disable-javascript",
            "--disable-local-file-access",
            "--disable-plugins",
            "--no-outline",
            "--proxy", f"http://127.0.0.1:{proxy_port}",
            "--load-error-handling", "ignore",
            "--load-media-error-handling", "ignore",
            "-", "-",
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command,
                input=html.encode("utf-8"),
                capture_output=True,
                timeout=self._timeout,
                env=self._environment(),
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise RenderFailed(NAME, f"wkhtmltopdf took over {self._timeout:g} s") from exc
        except OSError as exc:
            raise ConfigurationError(f"cannot run wkhtmltopdf ({exc}): {INSTALL_HINT}") from exc
        pdf = done.stdout
        if done.returncode not in _EXIT_OK or not _is_whole_pdf(pdf):
            reason = _last_line(done.stderr) or f"exit code {done.returncode}, no PDF"
            raise RenderFailed(NAME, f"wkhtmltopdf failed: {reason}")
        if done.returncode:
            log.debug("wkhtmltopdf: %s", _last_line(done.stderr))
        return pdf

    @staticmethod
    def _environment() -> dict[str, str]:
        # No *_proxy variables, no DISPLAY: only what Qt needs to start headless.
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": tempfile.gettempdir(),
            "XDG_RUNTIME_DIR": _runtime_dir(),
            "QT_QPA_PLATFORM": "offscreen",
        }


@contextmanager
def _refusing_port() -> Iterator[int]:
    """A loopback port bound but not listening for the length of one run.

    Connections to it are refused at once, and while it is bound no one else can listen there.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def _runtime_dir() -> str:
    # Qt wants a private runtime directory and warns on stderr without one.
    path = os.path.join(tempfile.gettempdir(), f"tg1c-wkhtmltopdf-{os.getuid()}")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def _is_whole_pdf(data: bytes) -> bool:
    return data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]


def _last_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""
