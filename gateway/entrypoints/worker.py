"""The worker (`python -m gateway run`): Telegram updates, the 1C sync loop, the decision outbox.

Any number of workers may run against one Redis:
- Updates are queued durably in Redis (by the web process in webhook mode; by whichever
  worker holds the `poller` lock in polling mode, which confirms Telegram's offset only after
  the batch is stored) and consumed by every worker, each chat in its own lane; an update is
  acknowledged after it was handled, one a killed worker held is taken over by another after a
  minute, and one whose handling keeps failing is set aside for the admins after a few tries.
- One worker at a time, holding the `sync` lock (a token with a TTL, renewed while held),
  runs the sync passes: every ONEC_POLL_INTERVAL seconds, and at once for tasks 1C pushed.
- Every worker writes due decisions from the outbox; a lease keeps two from taking the same one.
- With several infobases (ONEC_BASES) each base has its own sync loop (its own `sync` lock in
  its namespace, its own interval, outage alerts and status) and its own outbox loop, so one
  base's 1C being down never delays another's; the update consumer and the poller are shared,
  and the router hands each update to the base it belongs to.
SIGTERM and SIGINT stop the loops after the work in hand and release the locks.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Final

from gateway.bootstrap import Gateway
from gateway.domain.incoming import Incoming
from gateway.errors import GatewayError, RateLimited
from gateway.ports.messenger import TelegramMode
from gateway.ports.storage import FULL_PASS, Coordination, LeaderRole
from gateway.scheduling.lanes import Lanes
from gateway.usecases import commands
from gateway.usecases.context import FlowContext
from gateway.usecases.dispatch import Admission
from gateway.usecases.links import check_all_links
from gateway.usecases.monitor import monitored_sync
from gateway.usecases.outbox import OutboxRunner
from gateway.usecases.router import admit, handle, tell_flooding
from gateway.usecases.sync import sync_tasks

log = logging.getLogger(__name__)

LONG_POLL_SECONDS: Final = 25
UPDATE_BATCH: Final = 20
LANE_THREADS: Final = 8  # chats handled side by side; each chat's updates stay in order
UPDATES_IN_FLIGHT: Final = 200  # read and not yet handled; reading pauses above this
KEEP_UPDATES_SECONDS: Final = 15.0  # well within the queue's minute before an update is stale
LANE_STOP_SECONDS: Final = 10.0
OUTBOX_IDLE_SECONDS: Final = 1.0
LINK_CHECK_SECONDS: Final = 600.0
ERROR_PAUSE_SECONDS: Final = 5.0
LOCK_TTL_SECONDS: Final = 30.0


def worker_id() -> str:
    """host:pid:random, so the status can tell which process leads."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class BaseLoops:
    """One infobase's share of a worker: its flow context, outbox runner and wake-up event."""

    def __init__(self, ctx: FlowContext, poll_interval: float) -> None:
        self.ctx = ctx
        self.name = ctx.base.name
        self.poll_interval = poll_interval
        self.outbox_now = threading.Event()
        ctx.wake_outbox = self.outbox_now.set
        self.outbox = OutboxRunner(ctx)

    def thread_name(self, loop: str) -> str:
        """`sync` for the single base, `sync:uh` for a named one."""
        return f"{loop}:{self.name}" if self.name else loop


class Worker:
    """The worker's loops over one Gateway; `start()` then `stop()`, or `run()` until a signal."""

    def __init__(self, gateway: Gateway, *, long_poll_seconds: int = LONG_POLL_SECONDS) -> None:
        self.gateway = gateway
        self.flows = gateway.flows()
        self.bases = [
            BaseLoops(ctx, base.settings.poll_interval)
            for ctx, base in zip(self.flows, gateway.bases.values(), strict=True)
        ]
        self.ctx = self.flows[0]  # the first base's: the bot's texts, the shared counters
        self.store = gateway.store
        self.id = worker_id()
        self.long_poll_seconds = long_poll_seconds
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        # Locks held, by (base name, role): the poller's in the root namespace (base ""), each
        # base's `sync` in its own.
        self._held: dict[tuple[str, str], Coordination] = {}
        self._bot_ready = False
        self._in_flight: set[str] = set()  # entry ids queued in a lane or being handled
        self._in_flight_lock = threading.Lock()

    @property
    def polling(self) -> bool:
        """True in polling mode; in webhook mode the web process queues the updates."""
        return self.gateway.settings.telegram_mode == TelegramMode.POLLING

    def wake_sync(self) -> None:
        """Ask every base's sync leader (whichever worker it is) for a full pass now."""
        for base in self.bases:
            base.ctx.coordination.request_sync([])

    def _prepare_bot(self) -> bool:
        """Drop a stale webhook (polling mode) and set the command menu; False if Telegram
        could not be reached (the poll loop tries again, the worker does not die)."""
        bot = self.gateway.telegram
        try:
            if self.polling:
                bot.delete_webhook()
            bot.set_commands(commands.bot_commands(self.ctx.texts))
        except GatewayError as exc:
            log.warning("Telegram not ready yet (%s); will retry", exc)
            return False
        self._bot_ready = True
        return True

    def start(self) -> None:
        """Prepare the bot (if Telegram answers) and start the loops."""
        self._prepare_bot()
        loops: list[tuple[str, Callable[[], None]]] = [("updates", self._consume_loop)]
        for base in self.bases:
            loops.append((base.thread_name("sync"), functools.partial(self._sync_loop, base)))
            loops.append((base.thread_name("outbox"), functools.partial(self._outbox_loop, base)))
        loops.append(("leases", self._lease_loop))
        if self.polling:
            loops.append(("poller", self._poll_loop))
        for name, loop in loops:
            thread = threading.Thread(target=self._guarded(name, loop), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        settings = self.gateway.settings
        for each in self.gateway.bases.values():
            log.info(
                "worker %s started%s: %s connector, %s mode, sync every %g s, PDF engine %s",
                self.id,
                f" for base {each.name} ({each.settings.infobase.title})" if each.name else "",
                each.settings.connector,
                settings.telegram_mode,
                each.settings.poll_interval,
                self.gateway.renderer.engine,
            )

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the work in hand, stop the loops, release the locks."""
        self._stopping.set()
        for base in self.bases:
            base.outbox_now.set()
        for thread in self._threads:
            thread.join(timeout)
        for ctx in self.flows:
            ctx.pools.shutdown()  # the sync pass's threads live as long as this worker
        for (name, role), store in list(self._held.items()):
            try:
                store.release_leadership(role, self.id)
            except GatewayError as exc:
                log.warning("could not release the %s lock%s: %s", role, _of(name), exc)
        self._held.clear()
        log.info("worker %s stopped", self.id)

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
                    # A bug or an outage must not silently kill a loop: log, pause, go on.
                    log.exception("the %s loop failed; restarting it", name)
                    self._stopping.wait(ERROR_PAUSE_SECONDS)

        return run

    # --- leadership ---------------------------------------------------------------------------

    def _lead(self, role: str, store: Coordination | None = None, base: str = "") -> bool:
        """Take or keep the role's lock in `store` (the root namespace's unless given); False
        if another worker has it."""
        store = store or self.store
        if store.acquire_leadership(role, self.id, LOCK_TTL_SECONDS):
            if (base, role) not in self._held:
                log.info("worker %s now leads %s%s", self.id, role, _of(base))
            self._held[(base, role)] = store
            return True
        self._held.pop((base, role), None)
        return False

    def _lease_loop(self) -> None:
        """Renew held locks well before they expire, also while a long pass runs."""
        while not self._stopping.wait(LOCK_TTL_SECONDS / 3):
            for (base, role), store in list(self._held.items()):
                try:
                    self._lead(role, store, base)
                except GatewayError as exc:
                    log.warning("renewing the %s lock%s failed: %s", role, _of(base), exc)
                    self._held.pop((base, role), None)

    # --- updates ------------------------------------------------------------------------------

    def _poll_loop(self) -> None:
        bot = self.gateway.telegram
        while not self._stopping.is_set():
            try:
                if not self._bot_ready and not self._prepare_bot():
                    self._stopping.wait(ERROR_PAUSE_SECONDS)
                    continue
                if not self._lead(LeaderRole.POLLER):
                    self._stopping.wait(LOCK_TTL_SECONDS / 3)
                    continue
                batch = bot.fetch_updates(self.store.polling_offset(), self.long_poll_seconds)
                for update_id, payload in batch:
                    self.store.push_update(update_id, payload)
                if batch:
                    # Stored durably: only now may Telegram forget them.
                    self.store.set_polling_offset(batch[-1][0] + 1)
            except RateLimited as exc:
                self._stopping.wait(exc.retry_after)
            except GatewayError as exc:
                log.warning("polling Telegram failed: %s", exc)
                self._stopping.wait(ERROR_PAUSE_SECONDS)

    def _consume_loop(self) -> None:
        """Read updates and hand each to its chat's lane; never wait on a chat here.

        Only reading, parsing and the inbound count happen on this thread, so a chat that
        waits for its flood limit (or for 1C) cannot hold up another user's button press.
        """
        lanes = Lanes(LANE_THREADS, "update")
        last_keep = time.monotonic()
        try:
            while not self._stopping.is_set():
                try:
                    if time.monotonic() - last_keep > KEEP_UPDATES_SECONDS:
                        self.store.keep_updates(self.id, self._in_flight_ids())
                        last_keep = time.monotonic()
                    if not lanes.wait_below(UPDATES_IN_FLIGHT, 1.0):
                        continue
                    entries = self.store.take_updates(self.id, 1.0, UPDATE_BATCH)
                    for entry_id, payload in entries:
                        self._dispatch(lanes, entry_id, payload)
                except GatewayError as exc:
                    log.warning("reading queued updates failed: %s", exc)
                    self._stopping.wait(ERROR_PAUSE_SECONDS)
        finally:
            dropped = lanes.stop(LANE_STOP_SECONDS)
            with self._in_flight_lock:
                # Dropped updates stay unacknowledged: taken again later, here or elsewhere.
                self._in_flight.clear()
            if dropped:
                log.info("%d queued updates left for another worker or a later take", dropped)

    def _in_flight_ids(self) -> list[str]:
        with self._in_flight_lock:
            return list(self._in_flight)

    def _dispatch(self, lanes: Lanes, entry_id: str, payload: str) -> None:
        """Parse and admit one update, then queue it in its chat's lane (or just ack it)."""
        with self._in_flight_lock:
            if entry_id in self._in_flight:
                return  # taken again as stale while its lane still holds it
        try:
            event = self.gateway.telegram.parse_update(payload)
        except Exception:
            # Left unacknowledged: retaken later, and set aside after a few tries.
            log.exception("a queued update could not be read; it will be retried")
            return
        if event is None:
            self.store.ack_update(entry_id)
            return
        admission = admit(self.flows, event)
        if admission is Admission.IGNORE:
            self.store.ack_update(entry_id)
            return
        with self._in_flight_lock:
            self._in_flight.add(entry_id)
        lanes.submit(event.chat_id, lambda: self._handle(entry_id, event, admission))

    def _handle(self, entry_id: str, event: Incoming, admission: Admission) -> None:
        """In the chat's lane: handle, then acknowledge; a failure leaves it for a retry."""
        try:
            if admission is Admission.NOTICE:
                tell_flooding(self.flows, event)
            else:
                handle(self.flows, event)
        except Exception:
            # Not acknowledged: any worker retakes it after a while; the queue sets it aside
            # once it has failed a few times, so it never comes back for ever.
            log.exception("handling update %s failed; it will be retried", event.update_id)
            return
        finally:
            with self._in_flight_lock:
                self._in_flight.discard(entry_id)
        try:
            self.store.ack_update(entry_id)
        except GatewayError as exc:
            log.warning("update %s handled but not acknowledged: %s", event.update_id, exc)

    # --- sync ---------------------------------------------------------------------------------

    def _sync_loop(self, base: BaseLoops) -> None:
        """The base's sync passes while this worker holds the base's `sync` lock."""
        ctx = base.ctx
        interval = base.poll_interval
        next_full = 0.0
        last_link_check = time.monotonic()
        while not self._stopping.is_set():
            try:
                if not self._lead(LeaderRole.SYNC, ctx.coordination, base.name):
                    self._stopping.wait(min(interval, LOCK_TTL_SECONDS / 3))
                    next_full = 0.0  # a new leader starts with a full pass
                    continue
                now = time.monotonic()
                if now >= next_full:
                    monitored_sync(ctx)
                    next_full = time.monotonic() + interval
                    if time.monotonic() - last_link_check > LINK_CHECK_SECONDS:
                        check_all_links(ctx)
                        last_link_check = time.monotonic()
                    continue
                wait = max(0.05, min(next_full - now, LOCK_TTL_SECONDS / 3))
                requested = ctx.coordination.wait_sync_request(wait)
                if requested is None:
                    continue
                ids = [i for i in requested if i != FULL_PASS]
                if FULL_PASS in requested or not ids:
                    next_full = 0.0
                else:
                    sync_tasks(ctx, ids)
            except GatewayError as exc:
                log.warning("sync%s failed: %s", _of(base.name), exc)
                self._stopping.wait(min(interval, ERROR_PAUSE_SECONDS))

    # --- outbox -------------------------------------------------------------------------------

    def _outbox_loop(self, base: BaseLoops) -> None:
        """Write the base's due decisions to its 1C; woken at once when one is queued."""
        while not self._stopping.is_set():
            base.outbox_now.clear()
            try:
                if base.outbox.run_once():
                    continue  # more may be due; look again at once
            except GatewayError as exc:
                log.warning("outbox pass%s failed: %s", _of(base.name), exc)
            base.outbox_now.wait(OUTBOX_IDLE_SECONDS)


def _of(base: str) -> str:
    """` of base uh` for log lines about a named base; nothing for the single base."""
    return f" of base {base}" if base else ""
