"""Redis: the gateway's only state, every key under REDIS_PREFIX."""

from adapters.redis_store.store import RedisStore, connect

__all__ = ["RedisStore", "connect"]
