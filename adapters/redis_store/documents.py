"""The core's DocumentCache on Redis: rendered PDFs and their Telegram file ids, with a TTL.

Key layout (under the prefix; `<key>` is the core's rendition key):
  pdf:<key>          string  the PDF bytes (not kept when over the size cap)
  pdf-file-id:<key>  string  the Telegram file id of the first upload
Both expire after the TTL: a document still pending after a week is simply rendered again.
"""

from __future__ import annotations

from typing import Final

import redis

from adapters.redis_store.connection import PrefixedRedis, connect, translated_errors

DEFAULT_TTL_SECONDS: Final = 7 * 24 * 3600
DEFAULT_MAX_PDF_BYTES: Final = 20 * 1024 * 1024
# A 20 MB value takes a while on a slow link; the store's 5 s would cut it off.
BINARY_SOCKET_TIMEOUT_SECONDS: Final = 30.0


def connect_binary(url: str) -> redis.Redis:
    """A client for `url` that returns bytes (PDFs are not text); lazy, like `connect`."""
    return connect(url, decode_responses=False, socket_timeout=BINARY_SOCKET_TIMEOUT_SECONDS)


class RedisDocumentCache(PrefixedRedis):
    """DocumentCache port on one Redis database; needs a client from `connect_binary`."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        *,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        max_pdf_bytes: int = DEFAULT_MAX_PDF_BYTES,
    ) -> None:
        if ttl_seconds <= 0 or max_pdf_bytes <= 0:
            raise ValueError("ttl_seconds and max_pdf_bytes must be positive")
        super().__init__(client, prefix)
        self._ttl = ttl_seconds
        self._max_pdf_bytes = max_pdf_bytes

    def pdf_key(self, key: str) -> str:
        """The Redis key holding the PDF bytes of rendition `key`."""
        return f"{self._prefix}pdf:{key}"

    def file_id_key(self, key: str) -> str:
        """The Redis key holding the Telegram file id of rendition `key`."""
        return f"{self._prefix}pdf-file-id:{key}"

    def get_pdf(self, key: str) -> bytes | None:
        """The cached PDF of rendition `key`, or None."""
        with translated_errors():
            value = self._redis.get(self.pdf_key(key))
        return None if value is None else bytes(value)  # type: ignore[arg-type]

    def put_pdf(self, key: str, content: bytes) -> None:
        """Keep the PDF for the TTL; one over the size cap is not kept (it costs Redis memory
        every approver would rather spend on a second rendering)."""
        if len(content) > self._max_pdf_bytes:
            return
        with translated_errors():
            self._redis.set(self.pdf_key(key), content, ex=self._ttl)

    def get_file_id(self, key: str) -> str | None:
        """The Telegram file id of the first upload of rendition `key`, or None."""
        with translated_errors():
            value = self._redis.get(self.file_id_key(key))
        if value is None:
            return None
        return value.decode("utf-8") if isinstance(value, bytes) else str(value)

    def put_file_id(self, key: str, file_id: str) -> None:
        """Remember the file id for the TTL."""
        with translated_errors():
            self._redis.set(self.file_id_key(key), file_id.encode("utf-8"), ex=self._ttl)
