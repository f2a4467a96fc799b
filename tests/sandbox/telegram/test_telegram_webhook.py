"""Webhook delivery to a local receiver: secret header, retries after errors, order."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.serving import InThread

SECRET = "s3cret_token-1"


class Receiver:
    """A local HTTP endpoint that records deliveries and answers the statuses it is told to."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, Any], str | None]] = []
        self.statuses: list[int] = []  # answered in turn; 200 once exhausted
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.arrived:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    if status == 200:
                        secret = self.headers.get("X-Telegram-Bot-Api-Secret-Token")
                        receiver.deliveries.append((body, secret))
                    receiver.arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{server.server_port}/telegram/webhook"
        self._serving = InThread(server, poll_interval=0.05)

    def wait_for(self, count: int, timeout: float = 5) -> list[dict[str, Any]]:
        """The first `count` delivered updates, waiting for them to arrive."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.deliveries) >= count, timeout)
            return [body for body, _ in self.deliveries]

    def close(self) -> None:
        self._serving.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


def wait_until(condition: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_updates_are_posted_with_the_secret_header(bot, user, control, receiver):
    assert bot.set_webhook(receiver.url, secret_token=SECRET) is True
    control.send_text(user["id"], "через вебхук")
    (update,) = receiver.wait_for(1)
    assert update["message"]["text"] == "через вебхук"
    assert receiver.deliveries[0][1] == SECRET
    wait_until(lambda: bot.get_webhook_info().pending_update_count == 0)


def test_without_a_secret_no_header_is_sent(bot, user, control, receiver):
    bot.set_webhook(receiver.url)
    control.send_text(user["id"], "x")
    receiver.wait_for(1)
    assert receiver.deliveries[0][1] is None


def test_a_failed_delivery_is_retried_and_reported(bot, user, control, receiver):
    receiver.statuses = [500, 500]
    bot.set_webhook(receiver.url, secret_token=SECRET)
    control.send_text(user["id"], "повтор")
    (update,) = receiver.wait_for(1)
    assert update["message"]["text"] == "повтор"
    info = bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.last_error_date is not None


def test_updates_arrive_in_order_even_after_a_failure(bot, user, control, receiver):
    receiver.statuses = [500]
    bot.set_webhook(receiver.url)
    sent = [control.send_text(user["id"], str(n))["update_id"] for n in range(5)]
    delivered = receiver.wait_for(5)
    assert [u["update_id"] for u in delivered] == sent
    assert [u["message"]["text"] for u in delivered] == ["0", "1", "2", "3", "4"]


def test_an_unreachable_webhook_keeps_updates_pending(bot, user, control):
    bot.set_webhook("http://127.0.0.1:9/nobody-listens")
    control.send_text(user["id"], "ждёт")
    wait_until(lambda: bot.get_webhook_info().last_error_message is not None)
    info = bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("http://127.0.0.1:9/nobody-listens", 1)
    assert info.last_error_message == "Connection refused"


def test_drop_pending_updates_forgets_the_queue(bot, user, control):
    control.send_text(user["id"], "старое")
    bot.set_webhook("http://127.0.0.1:9/hook", drop_pending_updates=True)
    assert bot.get_webhook_info().pending_update_count == 0
    bot.delete_webhook()
    control.send_text(user["id"], "новое")
    bot.delete_webhook(drop_pending_updates=True)
    assert bot.get_updates() == ()


def test_deleting_the_webhook_returns_updates_to_polling(bot, user, control, receiver):
    receiver.statuses = [500] * 100
    bot.set_webhook(receiver.url)
    control.send_text(user["id"], "вернётся")
    bot.delete_webhook()
    assert bot.get_webhook_info().url == ""
    assert [u.message.text for u in bot.get_updates()] == ["вернётся"]


def test_a_secret_with_unallowed_characters_is_refused(bot):
    from telegram.error import BadRequest

    with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed characters"):
        bot.set_webhook("http://127.0.0.1:9/hook", secret_token="no spaces!")


def test_webhook_info_reports_the_settings(bot, receiver):
    bot.set_webhook(receiver.url, max_connections=5, allowed_updates=["message"])
    info = bot.get_webhook_info()
    assert (info.url, info.max_connections, info.allowed_updates) == (
        receiver.url,
        5,
        ("message",),
    )
    assert info.has_custom_certificate is False
