"""Redis: the gateway's only state, every key under REDIS_PREFIX."""

from adapters.redis_store.connection import connect
from adapters.redis_store.coordination import RedisRateLimiter
from adapters.redis_store.documents import RedisDocumentCache, connect_binary
from adapters.redis_store.store import RedisStore

__all__ = ["RedisDocumentCache", "RedisRateLimiter", "RedisStore", "connect", "connect_binary"]
