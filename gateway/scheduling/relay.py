"""The order in which a sync pass sends its cards, and the pools that run the sends.

`RelayOrder` decides, without threads, which card may start now; `relay` runs the cards on a
`RelayPools` in that order. The rules:
- Cards go in the pass's order, which takes the approvers in turn (`interleave`): one
  approver's cards side by side would each wait out the per-chat flood limit while others idle.
- The first card of each rendition (one document version) gets its document made ahead, on the
  prepare pool. Until it is ready the cards behind it wait, so 1C's order is kept.
- The other cards of a rendition whose first card is being uploaded are held back until that
  upload is done, then go out with its file id: a document is never uploaded twice.
- A card that finds an upstream unreachable stops the pass: cards not started are skipped,
  nothing new starts, the sends in flight finish, the renders not needed are cancelled.
"""

from __future__ import annotations

import enum
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any, Final, Literal, TypeVar

from gateway.errors import UpstreamUnavailable
from gateway.scheduling.executors import Executor, InlineExecutor, ThreadExecutor

T = TypeVar("T")
D = TypeVar("D")
R = TypeVar("R")

PREPARE_WORKERS: Final = 2  # PDF engines run as subprocesses: two keep both cores busy
SEND_WORKERS: Final = (
    6  # cards in flight at once: 30 a second even when a Bot API call takes 150 ms
)


@dataclass(frozen=True)
class RelayPools:
    """The sync pass's two pools: documents made ahead, and cards sent side by side."""

    prepare: Executor
    send: Executor

    @classmethod
    def threaded(cls) -> RelayPools:
        """PREPARE_WORKERS threads `pdf_<n>` and SEND_WORKERS threads `send_<n>`, started on
        first use; whoever owns the context shuts them down."""
        return cls(ThreadExecutor(PREPARE_WORKERS, "pdf"), ThreadExecutor(SEND_WORKERS, "send"))

    @classmethod
    def inline(cls) -> RelayPools:
        """Every job run at once on the caller's thread (unit tests)."""
        return cls(InlineExecutor(), InlineExecutor())

    def shutdown(self) -> None:
        """Let the jobs in hand finish and stop both pools' threads."""
        self.prepare.shutdown()
        self.send.shutdown()


def interleave(items: Iterable[T], key: Callable[[T], Hashable]) -> list[T]:
    """`items` with their keys taken in turn: a, b, c, a, b, c, ... (order kept per key)."""
    queues: dict[Hashable, list[T]] = defaultdict(list)
    for item in items:
        queues[key(item)].append(item)
    return [item for row in zip_longest(*queues.values()) for item in row if item is not None]


@dataclass(frozen=True, slots=True)
class Step:
    """A card that may start now: its place in the pass, and whether it is the first card of
    its rendition (it takes the document made ahead and uploads it)."""

    index: int
    uploads: bool = False


class RelayOrder:
    """Which cards of a pass may start now: fed with "document ready" and "card finished".

    Cards are known by their place in the pass; `renditions[i]` is the key of the document
    card i attaches when it is new, "" when it attaches none made ahead. No threads here: the
    caller reports what happened and asks `next_step()` until it answers None.
    """

    def __init__(self, renditions: Sequence[str]) -> None:
        self._renditions = list(renditions)
        self._queue = deque(range(len(self._renditions)))
        firsts: dict[str, int] = {}
        for index, key in enumerate(self._renditions):
            if key:
                firsts.setdefault(key, index)
        self.prepared: tuple[int, ...] = tuple(firsts.values())
        """The cards whose documents are made ahead (the first of each rendition), in order."""
        self._prepared = frozenset(self.prepared)
        self._ready: set[int] = set()
        self._held: dict[str, list[int]] = {}  # rendition → cards waiting for its upload
        self._released: deque[int] = deque()  # held cards whose upload is done
        self._running: set[int] = set()
        self._stopped = False

    def document_ready(self, index: int) -> None:
        """The document made ahead for card `index` is ready (or failed: the card says so)."""
        self._ready.add(index)

    def next_step(self) -> Step | None:
        """The next card to start, None while none may (or none is left)."""
        if self._stopped:
            return None
        if self._released:
            return self._start(self._released.popleft())
        while self._queue:
            head = self._queue[0]
            if head in self._prepared and head not in self._ready:
                return None  # keep 1C's order: this card is next when its document is ready
            self._queue.popleft()
            key = self._renditions[head]
            if head in self._prepared:
                self._held[key] = []
                return self._start(head, uploads=True)
            if key in self._held:
                self._held[key].append(head)
            else:
                return self._start(head)
        return None

    @property
    def awaiting_document(self) -> int | None:
        """The card next in line when it waits for its document; None otherwise."""
        if self._stopped or not self._queue:
            return None
        head = self._queue[0]
        return head if head in self._prepared and head not in self._ready else None

    def finished(self, index: int) -> None:
        """Card `index` is done (sent, failed or skipped): the cards it held may go."""
        self._running.discard(index)
        if index in self._prepared:
            held = self._held.pop(self._renditions[index], [])
            if not self._stopped:
                self._released.extend(held)

    def stop(self) -> None:
        """Start nothing more: an upstream is unreachable."""
        self._stopped = True
        self._queue.clear()
        self._held.clear()
        self._released.clear()

    @property
    def done(self) -> bool:
        """True when no card is waiting or running."""
        return not (self._queue or self._released or self._running)

    def _start(self, index: int, uploads: bool = False) -> Step:
        self._running.add(index)
        return Step(index, uploads)


class _Skipped(enum.Enum):
    SKIPPED = enum.auto()


def relay(
    pools: RelayPools,
    renditions: Sequence[str],
    prepare: Callable[[int], D],
    send: Callable[[int, Future[D] | None], R],
) -> list[R]:
    """Run `send(i, document)` for every card i of a pass in RelayOrder's order on the send
    pool, after starting `prepare(i)` on the prepare pool for the first card of each rendition
    (`document` is that Future for those cards, None for the others).

    One send waits tens of milliseconds (over the internet, a hundred or more) on Telegram, so
    one at a time would stay far under the bot-wide limit; the limiter, not this loop, paces
    the sends. Senders never wait here: a card whose document is still being made is handed
    over when it is ready.

    Returns the results of the sends that ran, in the order they finished. A send raising
    UpstreamUnavailable stops the pass (see the module); that error is raised once the sends in
    flight are done. Returns or raises only when no job of the pass is left running.
    """
    order = RelayOrder(renditions)
    stop = threading.Event()
    documents = {index: pools.prepare.submit(prepare, index) for index in order.prepared}
    running: dict[Future[R | Literal[_Skipped.SKIPPED]], int] = {}
    results: list[R] = []
    failure: UpstreamUnavailable | None = None
    try:
        while not order.done:
            while not stop.is_set() and (step := order.next_step()) is not None:
                document = documents[step.index] if step.uploads else None
                job = pools.send.submit(_unless_stopped, stop, send, step.index, document)
                running[job] = step.index
            if stop.is_set():
                order.stop()
            waiting: set[Future[Any]] = set(running)
            head = order.awaiting_document
            if head is not None:
                if documents[head].done():
                    order.document_ready(head)
                    continue
                waiting.add(documents[head])
            finished, _ = wait(waiting, return_when=FIRST_COMPLETED)
            for job in finished & running.keys():
                order.finished(running.pop(job))
                try:
                    result = job.result()
                except UpstreamUnavailable as exc:
                    failure = exc
                    continue
                if result is not _Skipped.SKIPPED:
                    results.append(result)
    finally:
        for document in documents.values():
            document.cancel()  # not needed after all (or the pass failed): render no more
        left: list[Future[Any]] = [*documents.values(), *running]
        wait(left)
    if failure is not None:
        raise failure
    return results


def _unless_stopped(
    stop: threading.Event,
    send: Callable[[int, Future[D] | None], R],
    index: int,
    document: Future[D] | None,
) -> R | Literal[_Skipped.SKIPPED]:
    """One card's job on a send thread: skipped once the pass stopped; stops it when an
    upstream is unreachable, so the jobs queued behind it skip too."""
    if stop.is_set():
        return _Skipped.SKIPPED
    try:
        return send(index, document)
    except UpstreamUnavailable:
        stop.set()
        raise
