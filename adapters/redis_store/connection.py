"""Connecting to Redis, and the one place its failures become the core's errors.

REDIS_URL carries everything redis-py reads from a URL: `redis://user:password@host:port/db`
for an ACL user or `requirepass` (settings put REDIS_PASSWORD there), `rediss://` for TLS with
`?ssl_ca_certs=/path/ca.pem` for a private CA, `unix:///path/redis.sock`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis

from gateway.errors import Upstream, UpstreamUnavailable

SOCKET_TIMEOUT_SECONDS = 5.0


def connect(
    url: str, *, decode_responses: bool = True, socket_timeout: float = SOCKET_TIMEOUT_SECONDS
) -> redis.Redis:
    """A client for `url` answering text (or bytes, `decode_responses=False`); lazy, so nothing
    connects until the first command."""
    return redis.Redis.from_url(
        url,
        decode_responses=decode_responses,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_timeout=socket_timeout,
        health_check_interval=30,
    )


class PrefixedRedis:
    """A client and the prefix every key it writes starts with (REDIS_PREFIX)."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    def ping(self) -> None:
        """Raise UpstreamUnavailable unless Redis answers PING."""
        with translated_errors():
            self._redis.ping()


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn redis-py's connection failures into the core's UpstreamUnavailable; wrong
    credentials say so, since no retry will fix them."""
    try:
        yield
    except redis.AuthenticationError as exc:
        reason = f"refused the user name or password of REDIS_URL/REDIS_PASSWORD: {_reason(exc)}"
        raise UpstreamUnavailable(Upstream.REDIS, reason) from exc
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise UpstreamUnavailable(Upstream.REDIS, _reason(exc)) from exc
    except redis.ResponseError as exc:
        raise UpstreamUnavailable(Upstream.REDIS, f"error answer: {exc}") from exc


def _reason(exc: Exception) -> str:
    # redis-py's messages name host and port only; the URL (and any password) is never in them.
    return str(exc).split("\n")[0] or type(exc).__name__
