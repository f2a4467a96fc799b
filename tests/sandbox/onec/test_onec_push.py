"""Push: feed events are POSTed to the gateway, signed as design 5.4 says, retried on failure."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from sandbox.onec.harness import running
from tests.serving import InThread

SECRET = "push-secret"


class Receiver:
    """A tiny gateway stand-in that fails the first `failures` pushes, then records them."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[dict[str, Any]] = []
        self.attempts = 0
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/onec/events"
        self._serving = InThread(self.server)

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.attempts += 1
        if self.attempts <= self.failures:
            return Response("down", 503)(environ, start_response)
        self.received.append(
            {
                "body": request.get_data(),
                "timestamp": request.headers["X-Gateway-Timestamp"],
                "signature": request.headers["X-Gateway-Signature"],
            }
        )
        return Response(json.dumps({"accepted": 1}), 200)(environ, start_response)

    def stop(self) -> None:
        self._serving.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    instance = Receiver(failures=2)
    yield instance
    instance.stop()


def _wait(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_events_are_pushed_signed_and_retried_until_accepted(receiver: Receiver) -> None:
    with running(push_url=receiver.url, push_secret=SECRET) as onec:
        task = next(t for t in onec.client.approvals()[0]["tasks"] if t["state"] == "pending")
        onec.client.complete_task(task["id"])
        _wait(lambda: sum(len(json.loads(r["body"])["events"]) for r in receiver.received) >= 2)
    assert receiver.attempts >= 3
    pushed = [event for r in receiver.received for event in json.loads(r["body"])["events"]]
    assert [(e["type"], e["task_id"]) for e in pushed][:1] == [("completed", task["id"])]
    assert pushed[1]["type"] == "created" and pushed[0]["at"].endswith("+03:00")
    for request in receiver.received:
        assert abs(int(request["timestamp"]) - time.time()) < 60
        mac = hmac.new(
            SECRET.encode(), request["timestamp"].encode() + b"." + request["body"], hashlib.sha256
        )
        assert request["signature"] == "sha256=" + mac.hexdigest()
