"""No secret in any form in any process's output, while errors that quote them happen.

Each process type runs as a real subprocess at LOG_LEVEL=DEBUG, configured the usual way (the
environment): the worker (`python -m gateway run`), the web process under gunicorn with the
deploy config and as `python -m gateway web`, and `python -m gateway check`. 1C is a stand-in
that answers every request with an error quoting the request (its Authorization header, the
credentials it carries, its URL) and every secret of the installation in every written form,
as a proxy's or a broken publication's error page might. Redis is a server of the test's own
with an ACL user and a password. The web processes also get requests whose query strings and
headers carry the secrets, which their request logs print.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from sandbox.telegram.harness import SandboxServer
from tests.conftest import SANDBOX_TOKEN, TEST_SECRET
from tests.private_redis import PrivateRedis, running_redis
from tests.secret_forms import basic_auth, leaks, written_forms

ROOT = Path(__file__).resolve().parents[2]
MARKER = "echo-of-the-request"
ONEC_USER = "Шлюз"
SECRETS = {
    "bot token": SANDBOX_TOKEN,
    "1C password": "пароль 1С/секрет",
    "GATEWAY_SECRET": TEST_SECRET,
    "ONEC_PUSH_SECRET": "onec-push-secret-0123456789",
    "webhook secret": "webhook_secret-0123456789",
    "Redis password": "redis pass/word-0123",
}
WAIT_SECONDS = 30.0


def every_form() -> str:
    """All forms of all secrets, and the Basic header of the 1C login, in one text."""
    forms = [form for secret in SECRETS.values() for form in written_forms(secret).values()]
    return " | ".join([*forms, basic_auth(ONEC_USER, SECRETS["1C password"])])


class EchoingOneC(BaseHTTPRequestHandler):
    """Answers 500 with an OData error whose message repeats the request and every secret."""

    def do_GET(self) -> None:
        authorization = self.headers.get("Authorization", "")
        decoded = ""
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode("utf-8", "replace")
        message = (
            f"{MARKER}: {self.command} {self.path} Authorization: {authorization} "
            f"({decoded}) context: {every_form()}"
        )
        body = json.dumps({"odata.error": {"code": "-1", "message": {"value": message}}})
        data = body.encode()
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads the gateway's output, not the stand-in's."""


@pytest.fixture(scope="module")
def echoing_onec() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingOneC)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/uh"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def redis_with_password(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    folder = tmp_path_factory.mktemp("redis")
    with running_redis(folder, SECRETS["Redis password"]) as instance:
        yield instance


@pytest.fixture
def process_env(
    echoing_onec: str,
    redis_with_password: PrivateRedis,
    telegram: SandboxServer,
    redis_prefix: str,
    tmp_path: Path,
) -> dict[str, str]:
    """Settings as an administrator writes them, every secret set; the Redis password in a file."""
    password_file = tmp_path / "redis-password"
    password_file.write_text(SECRETS["Redis password"], encoding="utf-8")
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "ONEC_BASE_URL": echoing_onec,
        "ONEC_USERNAME": ONEC_USER,
        "ONEC_PASSWORD": SECRETS["1C password"],
        "ONEC_PROFILE": "sandbox",
        "ONEC_TIMEOUT": "5",
        "ONEC_POLL_INTERVAL": "1",
        "TELEGRAM_BOT_TOKEN": SECRETS["bot token"],
        "TELEGRAM_API_URL": telegram.url,
        "TELEGRAM_WEBHOOK_SECRET": SECRETS["webhook secret"],
        "GATEWAY_SECRET": SECRETS["GATEWAY_SECRET"],
        "ONEC_PUSH_SECRET": SECRETS["ONEC_PUSH_SECRET"],
        "REDIS_URL": redis_with_password.url,
        "REDIS_PASSWORD_FILE": str(password_file),
        "REDIS_PREFIX": redis_prefix,
        "LOG_LEVEL": "DEBUG",
    }


class Output:
    """A child process's stdout and stderr, read as it runs."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self.readers = [
            threading.Thread(target=self._read, args=(stream,), daemon=True)
            for stream in (process.stdout, process.stderr)
        ]
        for reader in self.readers:
            reader.start()

    def _read(self, stream: Iterable[str]) -> None:
        for line in stream:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, needle: str) -> str:
        """The first output line holding `needle`, waiting for it."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if needle in line:
                    return line
            assert self.process.poll() is None, f"the process exited:\n{self.text}"
            time.sleep(0.1)
        raise AssertionError(f"no {needle!r} in the output:\n{self.text}")

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(timeout=40)
        for reader in self.readers:
            reader.join(timeout=10)  # they end with the process's last lines
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return self.text


def start(args: list[str], env: dict[str, str], cwd: Path) -> Output:
    process = subprocess.Popen(
        args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return Output(process)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_masked(text: str, marker_line: str) -> None:
    found = leaks(text, SECRETS)
    assert not found, f"in the output: {found}"
    assert "***" in marker_line  # the line really carried secrets, now masked


def test_the_worker_logs_1cs_error_without_a_secret_in_any_form(
    process_env: dict[str, str], tmp_path: Path
) -> None:
    output = start([sys.executable, "-m", "gateway", "run"], process_env, tmp_path)
    try:
        line = output.wait_for(MARKER)
    finally:
        text = output.stop()
    assert_masked(text, line)
    assert "DEBUG" in text


def test_check_prints_1cs_error_without_a_secret_in_any_form(
    process_env: dict[str, str], tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "check"],
        env=process_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    [line] = [x for x in result.stdout.splitlines() if x.startswith("1c: FAILED:")]
    assert MARKER in line
    assert "redis: ok" in result.stdout  # logged in to the private Redis with its password
    assert_masked(result.stdout + result.stderr, line)


def visit_with_secrets(base: str) -> str:
    """Requests whose URLs and headers carry the secrets; the body of /readyz."""
    token, password = SECRETS["bot token"], SECRETS["1C password"]
    query = f"token={quote(token)}&p={quote(password, safe='')}&q={SECRETS['GATEWAY_SECRET']}"
    headers = {
        "User-Agent": every_form().encode("ascii", "ignore").decode(),  # headers are Latin-1
        "Referer": f"https://{quote(ONEC_USER)}:{quote(password, safe='')}@srv-1c/uh",
    }
    requests.get(f"{base}/healthz?{query}&{MARKER}=1", headers=headers, timeout=10)
    requests.post(
        f"{base}/telegram/webhook?{query}",
        data="{}",
        headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
        timeout=10,
    )
    readyz = requests.get(f"{base}/readyz", timeout=30)
    assert readyz.status_code == 503
    assert MARKER in readyz.json()["failing"]["1c"]
    return readyz.text


def wait_until_serving(base: str, output: Output) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            requests.get(f"{base}/healthz", timeout=2)
            return
        except requests.ConnectionError:
            assert output.process.poll() is None, output.text
            assert time.monotonic() < deadline, "the web process did not start"
            time.sleep(0.1)


@pytest.mark.parametrize("server", ["gunicorn", "python -m gateway web"])
def test_the_web_process_logs_requests_and_errors_without_a_secret_in_any_form(
    process_env: dict[str, str], tmp_path: Path, server: str
) -> None:
    port = free_port()
    if server == "gunicorn":
        config = str(ROOT / "deploy" / "gunicorn.conf.py")
        args = ["-m", "gunicorn", "--chdir", str(ROOT), "-c", config, "wsgi:app"]
        env = {**process_env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1"}
    else:
        args = ["-m", "gateway", "web", "--port", str(port)]
        env = process_env
    output = start([sys.executable, *args], env, tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, output)
        answer = visit_with_secrets(base)
        line = output.wait_for(MARKER)
    finally:
        text = output.stop()
    assert_masked(text + answer, line)
    assert "webhook call without the right secret refused" in text  # the app's own log lines
