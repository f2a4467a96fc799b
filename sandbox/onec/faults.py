"""Injected faults on the 1C routes: down, slow, HTTP 500, an HTML login page, truncated bodies."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

MODES = ("none", "down", "slow", "error500", "html_login", "truncated")
DEFAULT_SLOW_SECONDS = 5.0

LOGIN_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>1С:Предприятие</title></head>
<body><form method="post" action="e1cib/login">
<h1>1С:Предприятие</h1><p>Пользователь: <input name="login"></p>
<p>Пароль: <input name="password" type="password"></p><button>Войти</button>
</form></body></html>
"""

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class Fault:
    """The fault in force: its mode, the delay for `slow`, and when it clears (None = never)."""

    mode: str
    delay: float
    until: float | None

    def as_json(self) -> dict[str, Any]:
        """The control API's view of the fault."""
        remaining = (
            None if self.until is None else max(0.0, round(self.until - time.monotonic(), 3))
        )
        return {"mode": self.mode, "delay": self.delay, "remaining_seconds": remaining}


class Faults:
    """The current fault; thread-safe; a fault with a duration clears itself."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fault = Fault("none", 0.0, None)

    def set(self, mode: str, seconds: float | None = None, duration: float | None = None) -> Fault:
        """Inject a fault. `slow`: `seconds` is the delay; others: `seconds` is the duration."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if (seconds is not None and seconds < 0) or (duration is not None and duration < 0):
            raise ValueError("seconds and duration must not be negative")
        if mode == "slow":
            delay = DEFAULT_SLOW_SECONDS if seconds is None else float(seconds)
        else:
            delay, duration = 0.0, seconds if duration is None else duration
        until = None if not duration else time.monotonic() + float(duration)
        with self._lock:
            self._fault = Fault(mode, delay, until)
            return self._fault

    def current(self) -> Fault:
        """The fault in force now (`none` once a timed fault has expired)."""
        with self._lock:
            if self._fault.until is not None and time.monotonic() >= self._fault.until:
                self._fault = Fault("none", 0.0, None)
            return self._fault


def wrap(
    app: WSGIApp, environ: dict[str, Any], start_response: StartResponse, fault: Fault
) -> Iterable[bytes]:
    """Answer one 1C-route request under a fault (`down` is handled by the request handler)."""
    if fault.mode == "slow":
        time.sleep(fault.delay)
        return app(environ, start_response)
    if fault.mode == "error500":
        body = json.dumps(
            {
                "odata.error": {
                    "code": "-1",
                    "message": {
                        "lang": "ru",
                        "value": "Ошибка при выполнении операции (эмулированный сбой)",
                    },
                }
            },
            ensure_ascii=False,
        ).encode()
        start_response(
            "500 Internal Server Error",
            [
                ("Content-Type", "application/json;charset=utf-8"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]
    if fault.mode == "html_login":
        body = LOGIN_PAGE.encode()
        start_response(
            "200 OK",
            [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]
    if fault.mode == "truncated":
        return _truncated(app, environ, start_response)
    return app(environ, start_response)


def _truncated(
    app: WSGIApp, environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    captured: dict[str, Any] = {}

    def capture(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        captured["status"], captured["headers"] = status, headers
        return lambda data: None

    result = app(environ, capture)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close:
            close()
    # Cut mid-way but with a matching Content-Length: the client reads a complete, broken body.
    cut = body[: max(1, len(body) // 2)] if body else b'{"value": ['
    headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
    start_response(captured["status"], [*headers, ("Content-Length", str(len(cut)))])
    return [cut]
