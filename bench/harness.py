"""The stack a scenario runs on: both emulators on loopback, real Redis under a prefix of the
bench's own (deleted afterwards), and the gateway wired by `build()` with what the bench counts."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

import redis
from werkzeug.serving import WSGIRequestHandler, make_server

from gateway.bootstrap import Gateway, build
from gateway.entrypoints.web import create_app
from gateway.entrypoints.worker import Worker
from gateway.ports.metrics import NoMetrics
from gateway.settings import Settings
from sandbox.onec import harness as onec_harness
from sandbox.onec.harness import RunningSandbox
from sandbox.telegram import harness as telegram_harness
from sandbox.telegram.harness import SandboxServer

TOKEN = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # the Telegram emulator's default bot
SECRET = "bench-gateway-secret-0123456789"
PUSH_SECRET = "bench-onec-push-secret-0123456789"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    """A free loopback port (for the web process that takes 1C's pushes)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_prefix() -> Iterator[str]:
    """A REDIS_PREFIX of this run's own; every key under it is deleted afterwards."""
    prefix = f"tg1c-bench:{uuid.uuid4().hex[:10]}:"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        try:
            batch: list[bytes] = []
            for key in client.scan_iter(match=prefix + "*", count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    client.delete(*batch)
                    batch.clear()
            if batch:
                client.delete(*batch)
        finally:
            client.close()


@contextmanager
def emulators(
    *, flood: bool, push_url: str | None = None
) -> Iterator[tuple[SandboxServer, RunningSandbox]]:
    """The Telegram emulator (flood limits on or off) and the 1C emulator (pushing or not)."""
    with (
        telegram_harness.running(TOKEN, flood=flood) as telegram,
        onec_harness.running(
            push_url=push_url, push_secret=PUSH_SECRET if push_url else None
        ) as onec,
    ):
        yield telegram, onec


def environment(
    telegram: SandboxServer, onec: RunningSandbox, prefix: str, **overrides: str
) -> dict[str, str]:
    """Gateway settings as environment variables (also for `python -m gateway run`)."""
    env = {
        "ONEC_CONNECTOR": "http",
        "ONEC_BASE_URL": onec.base_url,
        "ONEC_USERNAME": onec.config.user,
        "ONEC_PASSWORD": onec.config.password,
        "ONEC_PROFILE": "sandbox",
        "ONEC_APPROVAL_PROCESSES": "BusinessProcess_Согласование",
        "ONEC_POLL_INTERVAL": "120",
        "ONEC_TIMEOUT": "30",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": telegram.url,
        "GATEWAY_SECRET": SECRET,
        "ONEC_PUSH_SECRET": PUSH_SECRET,
        "REDIS_URL": REDIS_URL,
        "REDIS_PREFIX": prefix,
        "REMIND_AFTER_HOURS": "0",  # a reminder would be a message the bench did not ask for
        "LOG_LEVEL": "WARNING",
    }
    env.update(overrides)
    return env


def settings(
    telegram: SandboxServer, onec: RunningSandbox, prefix: str, **overrides: str
) -> Settings:
    """Settings for an in-process gateway on these emulators."""
    return Settings.from_env(environment(telegram, onec, prefix, **overrides))


class RenderTimes(NoMetrics):
    """The Metrics port keeping only how long each PDF rendering took (the cache at work): give
    it to adapters.metrics' InstrumentedRenderer around the renderer to watch."""

    def __init__(self) -> None:
        self.durations: list[float] = []
        self._lock = threading.Lock()

    @property
    def renders(self) -> int:
        """Renderings done so far."""
        return len(self.durations)

    def pdf_render(self, engine: str, seconds: float) -> None:
        """Keep the duration (renderings run on several threads)."""
        with self._lock:
            self.durations.append(seconds)


@contextmanager
def worker_running(gateway: Gateway, stop_timeout: float = 30.0) -> Iterator[Worker]:
    """The worker's loops on `gateway` for the block (long polls kept short, so it stops fast);
    the e2e and fault tests run their workers with it too."""
    worker = Worker(gateway, long_poll_seconds=1)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop(timeout=stop_timeout)


@contextmanager
def running_worker(gateway: Gateway) -> Iterator[Worker]:
    """`worker_running`, then the gateway closed."""
    # Short joins: a loop blocked in a Redis wait ends on its own (its threads are daemons).
    with closing(gateway), worker_running(gateway, stop_timeout=1) as worker:
        yield worker


class _QuietHandler(WSGIRequestHandler):
    """No access-log line per push: the bench prints only its table."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def web_process(gateway: Gateway, port: int) -> Iterator[str]:
    """The web app (POST /onec/events) on a real loopback server; answers its root URL."""
    server = make_server(
        "127.0.0.1", port, create_app(gateway=gateway), threaded=True, request_handler=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="bench-web", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        gateway.close()


def build_gateway(config: Settings, **overrides: Any) -> Gateway:
    """`build()` with the bench's overrides (a counting renderer, a different limiter)."""
    return build(config, **overrides)


@contextmanager
def onec_only() -> Iterator[RunningSandbox]:
    """The 1C emulator alone (sync cost needs no Telegram traffic)."""
    with onec_harness.running() as onec:
        yield onec


@contextmanager
def emulators_telegram_only() -> Iterator[SandboxServer]:
    """A Telegram emulator for settings that need one; nothing is sent to it."""
    with telegram_harness.running(TOKEN) as telegram:
        yield telegram
