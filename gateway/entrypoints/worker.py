"""The worker (`python -m gateway run`): Telegram updates, the 1C sync loop, the decision outbox.

Three threads share one FlowContext: updates are long-polled and each is confirmed (the next
offset sent) only after it was handled; the sync loop runs every ONEC_POLL_INTERVAL seconds or
at once when woken; the outbox loop writes due decisions to 1C, woken at once by a new one.
SIGTERM and SIGINT stop all three after the work in hand.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import Final

from gateway.bootstrap import Gateway
from gateway.errors import GatewayError, RateLimited
from gateway.flow import commands
from gateway.flow.decisions import drain_outbox
from gateway.flow.dispatch import handle
from gateway.flow.links import check_all_links
from gateway.flow.monitor import monitored_sync

log = logging.getLogger(__name__)

LONG_POLL_SECONDS: Final = 25
OUTBOX_IDLE_SECONDS: Final = 1.0
LINK_CHECK_SECONDS: Final = 600.0
ERROR_PAUSE_SECONDS: Final = 5.0


class Worker:
    """The worker's loops over one Gateway; `start()` then `stop()`, or `run()` until a signal."""

    def __init__(self, gateway: Gateway, *, long_poll_seconds: int = LONG_POLL_SECONDS) -> None:
        self.gateway = gateway
        self.ctx = gateway.flow()
        self.long_poll_seconds = long_poll_seconds
        self._stopping = threading.Event()
        self._sync_now = threading.Event()
        self._outbox_now = threading.Event()
        self.ctx.wake_outbox = self._outbox_now.set
        self._threads: list[threading.Thread] = []
        self._offset: int | None = None

    def wake_sync(self) -> None:
        """Run a sync pass now (a push from 1C)."""
        self._sync_now.set()

    def start(self) -> None:
        """Prepare the bot and start the loops."""
        bot = self.gateway.telegram
        bot.delete_webhook()
        bot.set_commands(commands.bot_commands(self.ctx.texts))
        for name, loop in (
            ("updates", self._updates_loop),
            ("sync", self._sync_loop),
            ("outbox", self._outbox_loop),
        ):
            thread = threading.Thread(target=self._guarded(name, loop), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info(
            "worker started: %s connector, polling Telegram, sync every %g s",
            self.gateway.settings.onec_connector,
            self.gateway.settings.onec_poll_interval,
        )

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the work in hand and stop the loops."""
        self._stopping.set()
        self._sync_now.set()
        self._outbox_now.set()
        for thread in self._threads:
            thread.join(timeout)
        log.info("worker stopped")

    def run(self) -> None:
        """Start, then wait for SIGTERM or SIGINT."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self._stopping.set())
        self.start()
        while not self._stopping.wait(1.0):
            pass
        self.stop()

    def _guarded(self, name: str, loop: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            while not self._stopping.is_set():
                try:
                    loop()
                    return
                except Exception:
                    # A bug must not silently kill a loop: log it, pause, go on.
                    log.exception("the %s loop failed; restarting it", name)
                    self._stopping.wait(ERROR_PAUSE_SECONDS)

        return run

    def _updates_loop(self) -> None:
        bot = self.gateway.telegram
        while not self._stopping.is_set():
            try:
                batch = bot.get_updates(self._offset, self.long_poll_seconds)
            except RateLimited as exc:
                self._stopping.wait(exc.retry_after)
                continue
            except GatewayError as exc:
                log.warning("getUpdates failed: %s", exc)
                self._stopping.wait(ERROR_PAUSE_SECONDS)
                continue
            for update_id, event in batch:
                if event is not None:
                    handle(self.ctx, event)
                self._offset = update_id + 1

    def _sync_loop(self) -> None:
        interval = self.gateway.settings.onec_poll_interval
        last_link_check = time.monotonic()
        while not self._stopping.is_set():
            self._sync_now.clear()
            try:
                monitored_sync(self.ctx)
                if time.monotonic() - last_link_check > LINK_CHECK_SECONDS:
                    check_all_links(self.ctx)
                    last_link_check = time.monotonic()
            except GatewayError as exc:
                log.warning("sync pass failed: %s", exc)
            self._sync_now.wait(interval)

    def _outbox_loop(self) -> None:
        while not self._stopping.is_set():
            self._outbox_now.clear()
            try:
                if drain_outbox(self.ctx):
                    continue  # more may be due; look again at once
            except GatewayError as exc:
                log.warning("outbox pass failed: %s", exc)
            self._outbox_now.wait(OUTBOX_IDLE_SECONDS)
