"""TELEGRAM_PROXY_URL and ONEC_CA_BUNDLE/ONEC_VERIFY_TLS against the emulators (issue 19, point 4).

The Bot API emulator is reached through proxies started here that count what passes them: an
HTTP forward proxy and a SOCKS5 one. The 1C emulator is served over HTTPS by a TLS front (a
certificate of a test CA made with openssl) that passes the bytes to the emulator's port.
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import socket
import socketserver
import ssl
import struct
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from adapters.telegram import TelegramBot
from tests.conftest import SANDBOX_TOKEN, unavailable


def _pipe(source: socket.socket, target: socket.socket) -> None:
    """Copy bytes one way until either side closes."""
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
    back.start()
    _pipe(client, upstream)
    back.join(5)
    client.close()
    upstream.close()


class CountingHttpProxy(BaseHTTPRequestHandler):
    """A forward proxy for http:// URLs that records every URL it forwards."""

    seen: list[str]

    def _forward(self) -> None:
        self.seen.append(self.path)
        target = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(target.hostname or "", target.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
        path = target.path + (f"?{target.query}" if target.query else "")
        upstream.request(self.command, path, body=body, headers=headers)
        answer = upstream.getresponse()
        content = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)
        upstream.close()

    do_GET = do_POST = _forward

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads `seen`."""


class CountingSocks5(socketserver.BaseRequestHandler):
    """A SOCKS5 proxy (no authentication, CONNECT only) that records every destination."""

    seen: list[tuple[str, int]]

    def handle(self) -> None:
        client: socket.socket = self.request
        _, count = client.recv(2)
        client.recv(count)  # the offered methods: "no authentication" is taken
        client.sendall(b"\x05\x00")
        version, command, _, kind = client.recv(4)
        assert version == 5 and command == 1
        if kind == 1:
            host = socket.inet_ntoa(client.recv(4))
        elif kind == 3:
            host = client.recv(client.recv(1)[0]).decode()
        else:
            host = socket.inet_ntop(socket.AF_INET6, client.recv(16))
        (port,) = struct.unpack("!H", client.recv(2))
        self.seen.append((host, port))
        upstream = socket.create_connection((host, port), timeout=30)
        client.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("0.0.0.0") + struct.pack("!H", 0))
        _relay(client, upstream)


class _ThreadingTcp(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def http_proxy() -> Iterator[tuple[str, list[str]]]:
    """An HTTP proxy's URL and the list of URLs it forwarded."""
    seen: list[str] = []
    handler = type("Handler", (CountingHttpProxy,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


@pytest.fixture
def socks_proxy() -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """A SOCKS5 proxy's URL and the destinations it connected to."""
    seen: list[tuple[str, int]] = []
    server = _ThreadingTcp(("127.0.0.1", 0), type("Handler", (CountingSocks5,), {"seen": seen}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"socks5://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def username_through(api_url: str, proxy_url: str) -> str:
    """The bot's username, asked of the Bot API at `api_url` through `proxy_url`."""
    bot = TelegramBot(SANDBOX_TOKEN, api_url, proxy=proxy_url)
    try:
        return bot.username()
    finally:
        bot.close()


def test_the_bot_api_is_reached_through_an_http_proxy(telegram, http_proxy) -> None:
    proxy_url, seen = http_proxy
    assert username_through(telegram.url, proxy_url)
    assert any(url.endswith("/getMe") for url in seen), seen


def test_the_bot_api_is_reached_through_a_socks5_proxy(telegram, socks_proxy) -> None:
    proxy_url, seen = socks_proxy
    assert username_through(telegram.url, proxy_url)
    port = urlsplit(telegram.url).port
    assert ("127.0.0.1", port) in seen


def test_check_names_the_proxy_and_passes_through_it(runner, onec_env, http_proxy) -> None:
    proxy_url, seen = http_proxy
    result = runner("check", env={**onec_env, "TELEGRAM_PROXY_URL": proxy_url})
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"telegram: ok ({onec_env['TELEGRAM_API_URL']} via proxy {proxy_url})" in (
        result.stdout.splitlines()
    )
    assert seen


def test_check_masks_the_proxy_password_and_fails_when_the_proxy_is_down(runner, onec_env) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proxy = f"http://office:proxy-pass-4242@127.0.0.1:{port}"
    result = runner("check", env={**onec_env, "TELEGRAM_PROXY_URL": proxy})
    assert result.returncode == 1
    assert "telegram: FAILED" in result.stdout
    assert "proxy-pass-4242" not in result.stdout + result.stderr


# --- 1C over HTTPS with a company CA -----------------------------------------------------------


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate for 127.0.0.1, server key), made with openssl."""
    openssl = shutil.which("openssl") or unavailable("openssl is not installed")
    folder = tmp_path_factory.mktemp("ca")
    ca_key, ca_cert = folder / "ca.key", folder / "ca.pem"
    key, csr, cert = folder / "server.key", folder / "server.csr", folder / "server.pem"
    ext = folder / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
        "/CN=tg1c test company CA", "-keyout", str(ca_key), "-out", str(ca_cert))  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", str(key), "-out", str(csr))  # fmt: skip
    run("x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
        "-CAcreateserial", "-days", "1", "-extfile", str(ext), "-out", str(cert))  # fmt: skip
    return ca_cert, cert, key


@pytest.fixture
def https_onec(onec, test_ca) -> Iterator[str]:
    """ONEC_BASE_URL over HTTPS: a TLS front passing bytes to the 1C emulator."""
    _, cert, key = test_ca
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    target = urlsplit(onec.base_url)

    class Front(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            try:
                client = context.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # a client that does not trust the certificate hangs up
            upstream = socket.create_connection((target.hostname, target.port), timeout=30)
            _relay(client, upstream)

    server = _ThreadingTcp(("127.0.0.1", 0), Front)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}{target.path}"
    server.shutdown()
    server.server_close()


def test_1c_over_https_is_trusted_with_the_company_ca_bundle(
    runner, onec_env, https_onec, test_ca
) -> None:
    ca_cert = test_ca[0]
    env = {**onec_env, "ONEC_BASE_URL": https_onec, "ONEC_CA_BUNDLE": str(ca_cert)}
    result = runner("check", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"1c: ok (odata at {https_onec}, CA bundle {ca_cert})" in result.stdout.splitlines()


def test_1c_over_https_fails_without_the_bundle_naming_the_certificate(
    runner, onec_env, https_onec
) -> None:
    result = runner("check", env={**onec_env, "ONEC_BASE_URL": https_onec})
    assert result.returncode == 1, result.stdout + result.stderr
    line = next((x for x in result.stdout.splitlines() if x.startswith("1c: ")), result.stdout)
    assert line.startswith("1c: FAILED"), result.stderr[-1500:]
    assert "certificate" in line.lower() or "ssl" in line.lower(), line


def test_verify_tls_off_connects_and_check_warns(runner, onec_env, https_onec) -> None:
    env = {**onec_env, "ONEC_BASE_URL": https_onec, "ONEC_VERIFY_TLS": "false"}
    result = runner("check", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"1c: ok (odata at {https_onec}, certificate not verified)" in result.stdout
    assert "1c: warning: ONEC_VERIFY_TLS=false" in result.stdout


def test_a_missing_ca_bundle_and_a_bad_proxy_url_are_settings_problems(runner, env) -> None:
    bad = {**env, "ONEC_CA_BUNDLE": "/nonexistent/ca.pem", "TELEGRAM_PROXY_URL": "ftp://x:1"}
    result = runner("check", env={**bad, "ONEC_VERIFY_TLS": "perhaps"})
    assert result.returncode == 2
    assert "  ONEC_CA_BUNDLE: /nonexistent/ca.pem is not a file" in result.stderr
    assert "  TELEGRAM_PROXY_URL: 'ftp://x:1' is not a proxy URL" in result.stderr
    assert "  ONEC_VERIFY_TLS: 'perhaps' is not true or false" in result.stderr
