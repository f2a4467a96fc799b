"""The web process: the app factory, /healthz, and gunicorn serving wsgi:app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flask import Flask, request
from flask.testing import FlaskClient

from gateway import __version__
from gateway.bootstrap import build
from gateway.entrypoints.web import MAX_BODY_BYTES, create_app
from gateway.settings import Settings
from tests.serving import first_answer, free_port

ROOT = Path(__file__).resolve().parents[2]


class RedisThatWouldFail:
    """A store whose every use fails: /healthz must never touch it."""

    def ping(self) -> None:
        raise AssertionError("healthz did I/O")


def test_healthz_answers_200_without_io(settings: Settings) -> None:
    # Deliberately not a whole Store: any use but the failing ping would be an AttributeError.
    store = RedisThatWouldFail()
    app = create_app(gateway=build(settings, store=store))  # type: ignore[arg-type]
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "version": __version__}


def test_the_client_fixture_serves_healthz(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200


def test_an_unknown_route_is_404(client: FlaskClient) -> None:
    assert client.get("/nothing-here").status_code == 404


def test_gunicorn_serves_healthz_from_wsgi(env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "wsgi:app",
        ],
        cwd=ROOT,
        env={**env, "PATH": os.environ.get("PATH", "")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        response = first_answer(process, f"http://127.0.0.1:{port}/healthz", "gunicorn", 30)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_wsgi_with_bad_settings_exits_2_with_the_problems(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "GATEWAY_SECRET: required, not set" in result.stderr


def run_gunicorn(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """gunicorn with an empty environment (no settings at all), until it stops by itself."""
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "--chdir", str(ROOT), *args, "wsgi:app"],
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=60,  # respawning workers for ever would end here, as a failure
    )


def test_gunicorn_with_the_deploy_config_and_bad_settings_stops_at_once_with_code_2(
    tmp_path: Path,
) -> None:
    config = str(ROOT / "deploy" / "gunicorn.conf.py")
    result = run_gunicorn("-c", config, "--bind", f"127.0.0.1:{free_port()}", cwd=tmp_path)
    assert result.returncode == 2
    for problem in ("ONEC_BASE_URL", "TELEGRAM_BOT_TOKEN", "GATEWAY_SECRET"):
        assert result.stderr.count(f"  {problem}: required, not set") == 1
    assert "Booting worker" not in result.stderr  # the master stopped before any worker


def test_plain_gunicorn_with_bad_settings_stops_instead_of_respawning_workers(
    tmp_path: Path,
) -> None:
    bind = f"127.0.0.1:{free_port()}"
    result = run_gunicorn("--bind", bind, "--workers", "2", cwd=tmp_path)
    # gunicorn's "App failed to load" (4) halts the master; when both workers fail at once,
    # gunicorn 27 raises that again while stopping and exits 1. Either way, it stopped.
    assert result.returncode in (4, 1)
    assert "App failed to load" in result.stderr
    assert "GATEWAY_SECRET: required, not set" in result.stderr
    assert result.stderr.count("Booting worker") <= 2  # none started again


def test_a_route_without_a_bound_of_its_own_gets_the_app_wide_one(app: Flask) -> None:
    app.add_url_rule("/echo-length", "echo", lambda: str(len(request.get_data())), methods=["POST"])
    client = app.test_client()
    assert client.post("/echo-length", data=b"x" * MAX_BODY_BYTES).status_code == 200
    answer = client.post("/echo-length", data=b"x" * (MAX_BODY_BYTES + 1))
    assert answer.status_code == 413
    assert answer.get_json() == {"error": "too_large", "message": "the request body is too large"}
