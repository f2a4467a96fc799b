"""Push of feed events to the gateway (`POST <url>`, HMAC-SHA256 signed), retried until taken."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from typing import Any

import requests

from sandbox.onec.model import SERVER_TZ, Event

log = logging.getLogger(__name__)
BATCH = 100
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)


def event_json(event: Event) -> dict[str, Any]:
    """A feed event in the contract's shape."""
    return {
        "seq": event.seq,
        "type": event.type,
        "task_id": str(event.task_id),
        "at": event.at.replace(tzinfo=SERVER_TZ).isoformat(),
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, as design 5.4 says."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class Pusher:
    """Sends events appended after it started, in order, in batches, from a background thread."""

    def __init__(self, url: str, secret: str, timeout: float = 5.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.delivered = 0
        self.failures = 0
        self._queue: queue.Queue[Event] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="onec-push", daemon=True)

    def start(self) -> None:
        """Start the sender thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the sender thread (undelivered events are dropped)."""
        self._stop.set()
        self._thread.join(timeout=10)

    def enqueue(self, events: list[Event]) -> None:
        """Queue events for sending (an Infobase listener: must not block)."""
        for event in events:
            self._queue.put(event)

    def _run(self) -> None:
        with requests.Session() as session:
            while not self._stop.is_set():
                batch = self._take()
                if batch:
                    self._deliver(session, batch)

    def _take(self) -> list[Event]:
        try:
            first = self._queue.get(timeout=0.1)
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _deliver(self, session: requests.Session, batch: list[Event]) -> None:
        body = json.dumps({"events": [event_json(e) for e in batch]}, ensure_ascii=False).encode()
        attempt = 0
        while not self._stop.is_set():
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "X-Gateway-Timestamp": timestamp,
                "X-Gateway-Signature": sign(self.secret, timestamp, body),
            }
            try:
                answer = session.post(self.url, data=body, headers=headers, timeout=self.timeout)
                if 200 <= answer.status_code < 300:
                    self.delivered += len(batch)
                    return
                reason = f"HTTP {answer.status_code}"
            except requests.RequestException as exc:
                reason = str(exc)
            self.failures += 1
            delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
            log.warning("push to %s failed (%s); retrying in %.1f s", self.url, reason, delay)
            attempt += 1
            self._stop.wait(delay)
