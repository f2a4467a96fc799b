"""Webhook delivery: POSTs pending updates to the webhook URL one by one, retrying with backoff."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import requests

from sandbox.telegram.state import SandboxState, Webhook

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookDelivery:
    """A background thread that delivers updates while a webhook is set.

    Updates go one at a time in update_id order, and a failed one is retried before any later one,
    so each chat sees its updates in order (Telegram keeps order per chat; one queue is stricter).
    """

    def __init__(self, state: SandboxState) -> None:
        self._state = state
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="webhook-delivery", daemon=True)
        self._session = requests.Session()

    def start(self) -> None:
        """Begin delivering in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop and wait for the thread; an update being sent may still arrive once."""
        with self._state.lock:
            self._stopping = True
            self._state.changed.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=self._state.config.webhook_timeout + 1)
        self._session.close()

    def _run(self) -> None:
        config = self._state.config
        failures = 0
        while True:
            with self._state.lock:
                job = self._next_job()
                while job is None:
                    if self._stopping:
                        return
                    self._state.changed.wait()
                    job = self._next_job()
                webhook, update = job
            error = self._post(webhook, update)
            with self._state.lock:
                if error is None:
                    failures = 0
                    # Forget the update only if nobody reset or re-pointed the webhook meanwhile.
                    if self._state.webhook is webhook and update in self._state.updates:
                        self._state.updates.remove(update)
                    continue
                failures += 1
                self._state.webhook_last_error = (int(time.time()), error)
                backoff = config.webhook_retry_base * 2 ** (failures - 1)
                delay = min(backoff, config.webhook_retry_max)
                deadline = time.monotonic() + delay
                # Sleep on the condition so stop(), reset and deleteWebhook cut the wait short.
                while not self._stopping and self._state.webhook is webhook:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._state.changed.wait(remaining)
                if self._state.webhook is not webhook:
                    failures = 0

    def _next_job(self) -> tuple[Webhook, dict[str, Any]] | None:
        webhook = self._state.webhook
        if webhook is None or self._stopping or self._state.closed:
            return None
        for update in self._state.updates:
            kind = next(key for key in update if key != "update_id")
            if self._state.allows(kind):
                return webhook, update
        return None

    def _post(self, webhook: Webhook, update: dict[str, Any]) -> str | None:
        """Send one update; answer None on a 2xx, else Telegram's kind of last_error_message."""
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers[SECRET_HEADER] = webhook.secret_token
        try:
            response = self._session.post(
                webhook.url,
                data=json.dumps(update, ensure_ascii=False).encode("utf-8"),
                headers=headers,
                timeout=self._state.config.webhook_timeout,
            )
        except requests.Timeout:
            return "Read timeout expired"
        except requests.ConnectionError:
            return "Connection refused"
        with response:
            if 200 <= response.status_code < 300:
                return None
            return f"Wrong response from the webhook: {response.status_code} {response.reason}"
