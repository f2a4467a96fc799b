"""POST /telegram/webhook and POST /onec/events on the real app and Redis."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from gateway.bootstrap import Gateway, build
from gateway.entrypoints.inbound import MAX_PUSH_BYTES, MAX_UPDATE_BYTES
from gateway.entrypoints.web import create_app
from gateway.settings import Settings
from gateway.usecases import push
from tests.conftest import TEST_SECRET

HOOK_SECRET = "hook-secret_123"
PUSH_SECRET = "onec-push-secret-0123456789"


def built(env: dict[str, str]) -> Iterator[Gateway]:
    """The gateway `env` configures, closed after the test (the fixtures yield from it)."""
    instance = build(Settings.from_env(env))
    yield instance
    instance.close()


@pytest.fixture
def gateway(env: dict[str, str]):
    yield from built(
        {**env, "TELEGRAM_WEBHOOK_SECRET": HOOK_SECRET, "ONEC_PUSH_SECRET": PUSH_SECRET}
    )


@pytest.fixture
def web(gateway) -> FlaskClient:
    return create_app(gateway=gateway).test_client()


def update(update_id: int) -> str:
    message = {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}, "text": "/help"}
    return json.dumps({"update_id": update_id, "message": message})


def post_update(web: FlaskClient, body: str, secret: str | None = HOOK_SECRET):
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return web.post(
        "/telegram/webhook", data=body, headers=headers, content_type="application/json"
    )


def test_a_webhook_update_is_stored_and_answered_at_once(web: FlaskClient, gateway) -> None:
    answer = post_update(web, update(900))
    assert answer.status_code == 200
    assert answer.get_json() == {"ok": True, "duplicate": False}
    assert [p for _, p in gateway.store.take_updates("w", 0.1, 10)] == [update(900)]


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
def test_a_webhook_call_without_the_secret_is_refused(web: FlaskClient, gateway, secret) -> None:
    assert post_update(web, update(901), secret).status_code == 403
    assert gateway.store.take_updates("w", 0.05, 10) == []


def test_a_redelivered_update_is_dropped(web: FlaskClient, gateway) -> None:
    post_update(web, update(902))
    again = post_update(web, update(902))
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert len(gateway.store.take_updates("w", 0.1, 10)) == 1


def test_a_body_that_is_not_an_update_is_400(web: FlaskClient) -> None:
    assert post_update(web, '{"message": {}}').status_code == 400
    assert post_update(web, "{not json").status_code == 400


def signed(body: bytes, at: int | None = None, secret: str = PUSH_SECRET) -> dict[str, str]:
    at = int(time.time()) if at is None else at
    return {"X-Gateway-Timestamp": str(at), "X-Gateway-Signature": push.sign(secret, at, body)}


EVENTS = json.dumps(
    {
        "events": [
            {"seq": 3, "type": "cancelled", "task_id": "t-9", "at": "2026-11-27T10:00:00+03:00"}
        ]
    }
).encode()


def test_a_signed_push_asks_for_a_sync_of_its_tasks(web: FlaskClient, gateway) -> None:
    answer = web.post("/onec/events", data=EVENTS, headers=signed(EVENTS))
    assert answer.status_code == 200
    assert answer.get_json() == {"accepted": 1}
    assert gateway.store.wait_sync_request(1) == ["t-9"]


@pytest.mark.parametrize(
    ("offset", "secret", "sign"),
    [
        (0, PUSH_SECRET, False),
        (0, "another-secret-0123456789", True),
        (0, TEST_SECRET, True),
        (-400, PUSH_SECRET, True),
        (400, PUSH_SECRET, True),
    ],
    ids=["unsigned", "bad signature", "signed with GATEWAY_SECRET", "too old", "from the future"],
)
def test_a_bad_or_old_push_is_401_and_changes_nothing(
    web: FlaskClient, gateway, offset: int, secret: str, sign: bool
) -> None:
    # Signed here, not at collection: the suite may reach this test minutes later.
    headers = signed(EVENTS, at=int(time.time()) + offset, secret=secret) if sign else {}
    answer = web.post("/onec/events", data=EVENTS, headers=headers)
    assert answer.status_code == 401
    assert gateway.store.wait_sync_request(0.05) is None


def test_a_replayed_push_is_refused(web: FlaskClient, gateway) -> None:
    headers = signed(EVENTS)
    assert web.post("/onec/events", data=EVENTS, headers=headers).status_code == 200
    assert web.post("/onec/events", data=EVENTS, headers=headers).status_code == 401
    assert gateway.store.wait_sync_request(0.5) == ["t-9"]
    assert gateway.store.wait_sync_request(0.05) is None


def test_with_no_push_key_every_push_is_refused(env: dict[str, str]) -> None:
    gateway = build(Settings.from_env(env))
    try:
        web = create_app(gateway=gateway).test_client()
        for key in (TEST_SECRET, ""):
            answer = web.post("/onec/events", data=EVENTS, headers=signed(EVENTS, secret=key))
            assert answer.status_code == 401
            assert "ONEC_PUSH_SECRET" in answer.get_json()["message"]
        assert gateway.store.wait_sync_request(0.05) is None
    finally:
        gateway.close()


def test_a_webhook_body_past_its_bound_is_413_and_not_stored(web: FlaskClient, gateway) -> None:
    padding = "x" * MAX_UPDATE_BYTES
    body = json.dumps({"update_id": 903, "message": {"text": padding}})
    answer = post_update(web, body)
    assert answer.status_code == 413
    assert answer.get_json()["error"] == "too_large"
    assert gateway.store.take_updates("w", 0.05, 10) == []


def test_a_push_body_past_its_bound_is_413_and_changes_nothing(web: FlaskClient, gateway) -> None:
    event = {"seq": 1, "type": "created", "task_id": "t-1", "at": "2026-11-27T10:00:00+03:00"}
    body = json.dumps({"events": [event] * (MAX_PUSH_BYTES // 60)}).encode()
    assert len(body) > MAX_PUSH_BYTES
    answer = web.post("/onec/events", data=body, headers=signed(body))
    assert answer.status_code == 413
    assert gateway.store.wait_sync_request(0.05) is None


def test_a_push_of_a_hundred_events_is_well_within_the_bound(web: FlaskClient, gateway) -> None:
    events = [
        {"seq": n, "type": "updated", "task_id": f"t-{n}", "at": "2026-11-27T10:00:00+03:00"}
        for n in range(100)
    ]
    body = json.dumps({"events": events}).encode()
    assert len(body) * 10 < MAX_PUSH_BYTES
    assert web.post("/onec/events", data=body, headers=signed(body)).status_code == 200


UH_PUSH_SECRET = "uh-push-secret-0123456789"
ERP_PUSH_SECRET = "erp-push-secret-0123456789"


@pytest.fixture
def two_bases(env: dict[str, str]):
    """A gateway serving bases uh (pushes on) and erp (pushes off)."""
    yield from built(
        {
            **{k: v for k, v in env.items() if k != "ONEC_BASE_URL"},
            "ONEC_BASES": "uh,erp",
            "ONEC_UH_BASE_URL": "http://127.0.0.1:9/uh",
            "ONEC_ERP_BASE_URL": "http://127.0.0.1:9/erp",
            "ONEC_UH_PUSH_SECRET": UH_PUSH_SECRET,
        }
    )


def test_each_base_takes_pushes_on_its_own_route_with_its_own_key(two_bases) -> None:
    web = create_app(gateway=two_bases).test_client()
    uh, erp = two_bases.bases["uh"], two_bases.bases["erp"]
    answer = web.post("/onec/events/uh", data=EVENTS, headers=signed(EVENTS, secret=UH_PUSH_SECRET))
    assert answer.status_code == 200
    assert uh.store.wait_sync_request(1) == ["t-9"]
    assert erp.store.wait_sync_request(0.05) is None
    # Another base's key does not sign for uh; erp has no key, so all its pushes are refused.
    headers = signed(EVENTS, secret=ERP_PUSH_SECRET)
    assert web.post("/onec/events/uh", data=EVENTS, headers=headers).status_code == 401
    refused = web.post("/onec/events/erp", data=EVENTS, headers=headers)
    assert refused.status_code == 401
    assert "ONEC_ERP_PUSH_SECRET is not set" in refused.get_json()["message"]
    assert web.post("/onec/events/do", data=EVENTS, headers=headers).status_code == 404
    # The single base's route names no base: with several it is not there.
    assert web.post("/onec/events", data=EVENTS, headers=signed(EVENTS)).status_code == 404


def test_the_single_base_has_no_named_push_route(web: FlaskClient, gateway) -> None:
    assert web.post("/onec/events/uh", data=EVENTS, headers=signed(EVENTS)).status_code == 404
    assert gateway.store.wait_sync_request(0.05) is None
