"""A redis-server of a test's own, with an ACL user and a password, and TLS if asked.

The shared Redis at 127.0.0.1:6379 has no password; authentication and `rediss://` need a
server configured for them, started here on a free port and stopped afterwards.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.conftest import unavailable

USER = "tg1c"


@dataclass(frozen=True)
class PrivateRedis:
    """Where the server listens and how to log in: the URL has the user, not the password."""

    url: str
    password: str
    ca_file: Path | None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (it is its own CA) and its key."""
    if shutil.which("openssl") is None:
        unavailable("openssl is not installed")
    cert, key = folder / "redis.crt", folder / "redis.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@contextmanager
def running_redis(folder: Path, password: str, *, tls: bool = False) -> Iterator[PrivateRedis]:
    """A redis-server whose only user is `tg1c` with `password` (the default user is off)."""
    server = shutil.which("redis-server")
    if server is None:
        unavailable("redis-server is not installed")
    port = _free_port()
    args = [server, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)]
    args += ["--user", "default", "off", "--user", USER, "on", f">{password}", "~*", "&*", "+@all"]
    ca_file = None
    if tls:
        ca_file, key = _certificate(folder)
        args += ["--port", "0", "--tls-port", str(port), "--tls-auth-clients", "no"]
        args += ["--tls-cert-file", str(ca_file), "--tls-key-file", str(key)]
        args += ["--tls-ca-cert-file", str(ca_file)]
        url = f"rediss://{USER}@127.0.0.1:{port}/0?ssl_ca_certs={ca_file}"
    else:
        args += ["--port", str(port)]
        url = f"redis://{USER}@127.0.0.1:{port}/0"
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    instance = PrivateRedis(url=url, password=password, ca_file=ca_file)
    try:
        client = redis.Redis.from_url(url, password=password)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert process.poll() is None, "redis-server exited"
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        client.close()
        yield instance
    finally:
        process.terminate()
        process.wait(timeout=10)
