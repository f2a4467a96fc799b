"""The WeasyPrint process: `python -I weasyprint_child.py LIMIT_BYTES`.

Runs beside the gateway's process (weasyprint_engine.py starts and feeds it), so a document
that takes too long or too much memory is stopped without touching the worker. It caps its own
address space (RLIMIT_AS) before loading WeasyPrint, then renders one document per request:

- request, on stdin: 8-byte big-endian length, the HTML (UTF-8);
- answer, on stdout: one status byte (`K` a PDF, `E` the document failed, `C` WeasyPrint cannot
  start), then two length-prefixed parts: the PDF or the error text, and the refused URLs as
  JSON.

It imports nothing of the gateway's (run by path, it is not part of a package then). End of
input ends the process. Every URL goes through a fetcher that answers only `data:` URLs;
no `base_url`, so a relative URL resolves to nothing instead of a local path.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import struct
import sys
from typing import IO, Any, Final

LENGTH: Final = struct.Struct(">Q")
OK: Final = b"K"
FAILED: Final = b"E"
CANNOT_START: Final = b"C"


def frame(status: bytes, payload: bytes, refused: list[str]) -> bytes:
    """One answer: status byte, then payload and refused URLs, each with its length."""
    extra = json.dumps(refused).encode("utf-8")
    return status + LENGTH.pack(len(payload)) + payload + LENGTH.pack(len(extra)) + extra


def read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    """`size` bytes from `stream`, or None at end of input."""
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def main(argv: list[str]) -> int:
    """Serve documents until end of input."""
    limit = int(argv[1]) if len(argv) > 1 else 0
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # Answers go to a private copy of stdout; anything a library prints lands on stderr.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    try:
        render = _renderer()
    except (ImportError, OSError) as exc:
        answers.write(frame(CANNOT_START, f"{type(exc).__name__}: {exc}".encode(), []))
        answers.flush()
        return 1
    while (header := read_exactly(requests, LENGTH.size)) is not None:
        html = read_exactly(requests, LENGTH.unpack(header)[0])
        if html is None:
            break
        answers.write(render(html.decode("utf-8")))
        answers.flush()
    return 0


def _renderer() -> Any:
    # Imported here, under the memory limit main() has just set.
    import weasyprint
    from weasyprint.urls import URLFetcher

    # WeasyPrint logs each refused URL and unsupported CSS property at WARNING; expected.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)

    class DataOnlyFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no types
        """Answers `data:` URLs and refuses every other URL, counting what it refused."""

        def __init__(self) -> None:
            super().__init__(timeout=1, allowed_protocols={"data"}, allow_redirects=False)
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url.strip().lower().startswith("data:"):
                self.refused.append(url)
                raise ValueError(f"fetching {url!r} is not allowed")
            return super().fetch(url, headers)

    def render(html: str) -> bytes:
        fetcher = DataOnlyFetcher()
        try:
            pdf = weasyprint.HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()
        except MemoryError:
            return frame(FAILED, b"out of memory: over the process's address-space limit", [])
        except Exception as exc:  # WeasyPrint raises anything from its parsers and Pango.
            return frame(FAILED, f"{type(exc).__name__}: {exc}".encode(), fetcher.refused)
        if not isinstance(pdf, bytes):
            return frame(FAILED, b"WeasyPrint returned no PDF", fetcher.refused)
        return frame(OK, pdf, fetcher.refused)

    return render


if __name__ == "__main__":
    sys.exit(main(sys.argv))
