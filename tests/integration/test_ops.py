"""`/readyz` and `/status` against the emulators and real Redis (issue 9).

Readiness is checked with every dependency up, then with each one down in turn; the status
with the fields the monitor writes, and for what it must never show.
"""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient

from adapters.redis_store import RedisStore, connect
from gateway import __version__
from gateway.bootstrap import Gateway, build, namespace
from gateway.domain.records import UserLink
from gateway.entrypoints.web import create_app
from gateway.errors import RenderFailed
from gateway.settings import Settings
from sandbox.onec.harness import RunningSandbox
from tests.conftest import SANDBOX_TOKEN, TEST_SECRET
from tests.fakes import FakeRenderer

DEPENDENCIES = ["1c", "redis", "telegram", "pdf"]


def dead_url(scheme: str) -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"{scheme}://127.0.0.1:{port}"


def broken_renderer() -> FakeRenderer:
    """A PDF engine that fails every document (wkhtmltopdf missing or crashing)."""
    renderer = FakeRenderer(engine="pdfkit", template="default")
    renderer.error = RenderFailed("pdfkit", "wkhtmltopdf exited with code 1")
    return renderer


@pytest.fixture
def serve() -> Iterator[Callable[..., FlaskClient]]:
    """A test client of the app on a gateway built from an environment; closed afterwards."""
    built: list[Gateway] = []

    def make(env: dict[str, str], **overrides: Any) -> FlaskClient:
        gateway = build(Settings.from_env(env), **overrides)
        built.append(gateway)
        return create_app(gateway=gateway).test_client()

    yield make
    for gateway in built:
        gateway.close()


def test_readyz_is_200_when_every_dependency_answers(serve, onec_env: dict[str, str]) -> None:
    response = serve(onec_env).get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"ok": DEPENDENCIES, "failing": {}, "pdf_engine": "pdfkit"}


def test_readyz_names_weasyprint_when_wkhtmltopdf_is_not_on_path(
    serve, onec_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no wkhtmltopdf
    response = serve(onec_env).get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["pdf_engine"] == "weasyprint"


@pytest.mark.parametrize("down", DEPENDENCIES)
def test_readyz_is_503_naming_the_one_dependency_that_is_down(
    serve, onec_env: dict[str, str], onec: RunningSandbox, down: str
) -> None:
    env = dict(onec_env)
    overrides: dict[str, Any] = {}
    if down == "1c":
        onec.client.set_fault("down")
    elif down == "redis":
        env["REDIS_URL"] = dead_url("redis")
    elif down == "telegram":
        env["TELEGRAM_API_URL"] = dead_url("http")
    else:
        overrides["renderer"] = broken_renderer()
    response = serve(env, **overrides).get("/readyz")
    body = response.get_json()
    assert response.status_code == 503
    assert list(body["failing"]) == [down]
    assert body["ok"] == [name for name in DEPENDENCIES if name != down]
    assert body["failing"][down]  # a reason an operator can act on
    text = response.get_data(as_text=True)
    for secret in (SANDBOX_TOKEN, TEST_SECRET, onec_env["ONEC_PASSWORD"]):
        assert secret not in text


def test_status_of_a_fresh_installation_has_every_field(
    serve, env: dict[str, str], settings: Settings
) -> None:
    response = serve(env).get("/status")
    assert response.status_code == 200
    assert response.get_json() == {
        "version": __version__,
        "connector": "odata",
        "telegram_mode": "polling",
        "last_sync_at": None,
        "last_sync_age_seconds": None,
        "sync_lag_seconds": None,
        "last_sync_pending": None,
        "last_sync_error": None,
        "sync_failures": 0,
        "tasks_tracked": 0,
        "linked_users": 0,
        "outbox_depth": 0,
        "dead_letters": 0,
        "dead_updates": 0,
        "sync_leader": None,
        "onec_reachable": True,
        "onec_down_since": None,
    }


def test_status_reports_the_last_sync_the_outage_the_leader_and_counts(
    serve, env: dict[str, str]
) -> None:
    env = {**env, "ONEC_CONNECTOR": "http", "ONEC_POLL_INTERVAL": "15"}
    client = serve(env)
    store = RedisStore(connect(env["REDIS_URL"]), env["REDIS_PREFIX"])
    now = datetime.now().astimezone()
    synced = now - timedelta(minutes=10)
    down = now - timedelta(minutes=7)
    store.set_status(
        last_sync_at=synced.isoformat(),
        last_sync_pending="4",
        last_sync_error="1C is unavailable: connection refused",
        sync_failures="3",
        onec_down_since=down.isoformat(),
    )
    store.save_link(
        UserLink(
            telegram_user_id=777001,
            chat_id=777001,
            onec_user_id="b1e3c0de-0000-0000-0000-000000000001",
            onec_user_name="Морозов Дмитрий Олегович",
            phone="79123456789",
            linked_at=now,
        )
    )
    assert store.acquire_leadership("sync", "worker-host-a-4242", 30)

    body = client.get("/status").get_json()

    assert body["connector"] == "http"
    assert body["last_sync_at"] == synced.isoformat()
    assert 600 <= body["last_sync_age_seconds"] < 900
    assert body["sync_lag_seconds"] == pytest.approx(body["last_sync_age_seconds"] - 15, abs=0.01)
    assert body["last_sync_pending"] == 4
    assert body["last_sync_error"] == "1C is unavailable: connection refused"
    assert body["sync_failures"] == 3
    assert body["onec_reachable"] is False
    assert body["onec_down_since"] == down.isoformat()
    assert body["linked_users"] == 1
    assert body["sync_leader"] == "worker-host-a-4242"


def test_status_shows_no_personal_data_or_secrets(serve, env: dict[str, str]) -> None:
    client = serve(env)
    store = RedisStore(connect(env["REDIS_URL"]), env["REDIS_PREFIX"])
    store.save_link(
        UserLink(
            telegram_user_id=777002,
            chat_id=777002,
            onec_user_id="b1e3c0de-0000-0000-0000-000000000002",
            onec_user_name="Волков Андрей Сергеевич",
            phone="79220001122",
            linked_at=datetime.now().astimezone(),
        )
    )
    text = json.dumps(client.get("/status").get_json(), ensure_ascii=False)
    for private in ("Волков", "79220001122", "777002", "b1e3c0de", SANDBOX_TOKEN, TEST_SECRET):
        assert private not in text


def test_status_is_503_with_a_reason_when_redis_is_down(serve, env: dict[str, str]) -> None:
    response = serve({**env, "REDIS_URL": dead_url("redis")}).get("/status")
    assert response.status_code == 503
    assert response.get_json()["error"] == "redis_unavailable"


def test_status_masks_secrets_in_the_stored_sync_error(serve, env: dict[str, str]) -> None:
    env = {**env, "ONEC_USERNAME": "Шлюз", "ONEC_PASSWORD": "пароль 1С"}
    client = serve(env)
    store = RedisStore(connect(env["REDIS_URL"]), env["REDIS_PREFIX"])
    basic = base64.b64encode("Шлюз:пароль 1С".encode()).decode()
    quoted = quote("пароль 1С", safe="")
    # What a proxy in front of 1C that echoes the request would put into the error.
    store.set_status(
        last_sync_error=(
            f"1C answered 500: GET /bot{SANDBOX_TOKEN}/x?p={quoted}&s={TEST_SECRET} "
            f"with Authorization: Basic {basic}"
        )
    )
    error = client.get("/status").get_json()["last_sync_error"]
    assert error.startswith("1C answered 500: GET /bot***/x?p=***&s=***")
    for leaked in (SANDBOX_TOKEN, quoted, TEST_SECRET, basic):
        assert leaked not in error


def two_bases(env: dict[str, str], erp_url: str) -> dict[str, str]:
    """`env` serving the emulator as base uh (УХ) and `erp_url` as base erp."""
    return {
        **{k: v for k, v in env.items() if k != "ONEC_BASE_URL"},
        "ONEC_BASES": "uh,erp",
        "ONEC_UH_BASE_URL": env["ONEC_BASE_URL"],
        "ONEC_UH_TITLE": "УХ",
        "ONEC_ERP_BASE_URL": erp_url,
        "ONEC_ERP_POLL_INTERVAL": "60",
    }


def test_readyz_names_the_base_whose_1c_is_down(serve, onec_env: dict[str, str]) -> None:
    response = serve(two_bases(onec_env, dead_url("http") + "/erp")).get("/readyz")
    body = response.get_json()
    assert response.status_code == 503
    assert body["ok"] == ["1c:uh", "redis", "telegram", "pdf"]
    assert list(body["failing"]) == ["1c:erp"]


def test_status_with_several_bases_reports_each_base_under_its_name(
    serve, env: dict[str, str]
) -> None:
    env = two_bases(env, "http://127.0.0.1:9/erp")
    client = serve(env)
    erp = RedisStore(connect(env["REDIS_URL"]), namespace(env["REDIS_PREFIX"], "erp"))
    down = datetime.now().astimezone() - timedelta(minutes=7)
    erp.set_status(onec_down_since=down.isoformat(), last_sync_error="1C is unavailable")
    assert erp.acquire_leadership("sync", "worker-b", 30)

    body = client.get("/status").get_json()

    assert (body["version"], body["telegram_mode"], body["dead_updates"]) == (
        __version__,
        "polling",
        0,
    )
    assert set(body["bases"]) == {"uh", "erp"}
    uh, erp_status = body["bases"]["uh"], body["bases"]["erp"]
    assert (uh["title"], uh["onec_reachable"], uh["sync_leader"]) == ("УХ", True, None)
    assert (erp_status["title"], erp_status["onec_reachable"]) == ("ERP", False)
    assert erp_status["onec_down_since"] == down.isoformat()
    assert erp_status["sync_leader"] == "worker-b"
    assert "version" not in uh


def test_metrics_with_several_bases_label_the_store_gauges(
    serve, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    text = serve(two_bases(env, "http://127.0.0.1:9/erp")).get("/metrics").get_data(as_text=True)
    assert 'gateway_outbox_depth{base="uh"} 0.0' in text
    assert 'gateway_outbox_depth{base="erp"} 0.0' in text
