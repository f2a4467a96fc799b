"""What both emulators' control clients are built on: one HTTP session on a server root."""

from __future__ import annotations

from typing import Self

import requests


class ControlClient:
    """An HTTP session on an emulator's server root (`base_url`, e.g. `http://127.0.0.1:8081`);
    close it with `close()` or by leaving a `with` block."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def close(self) -> None:
        """Release the session's pooled connections."""
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
