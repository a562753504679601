"""A Redis cache that fails soft: with Redis down the portal degrades, it does not fail.

What lives in the cache is either a copy (sessions are written through to the database
by the ``cached_db`` engine), a convenience (the nearest-time ranking) or a counter (rate
limits). None of them is worth a 500 on every page. So every cache call that hits a
Redis error is answered as a miss, and for a few seconds afterwards Redis is not even
asked, so a Redis that hangs costs one short timeout per process, not one per call.
What fails open and what fails closed is decided in docs/security.md ("Redis down").
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
T = TypeVar("T")
# Keys of the default cache that every request reads, read in the session's own round trip
# (`core.sessions`): key -> what to do with the value (None when it is not there).
_with_session: dict[str, Callable[[Any], None]] = {}


def read_with_session(key: str, receive: Callable[[Any], None]) -> None:
    """Have ``key`` read together with the session, one Redis round trip for both
    (docs/performance.md, issue 25): a page then pays one read of the shared cache."""
    _with_session[key] = receive


def read_with_session_keys() -> dict[str, Callable[[Any], None]]:
    return dict(_with_session)


class ReusedClient(RedisCacheClient):
    """Django's Redis client, keeping its ``redis.Redis`` objects: Django builds a new one
    for every call, and building one (its table of response callbacks) cost more of a
    session read than the read itself (docs/performance.md, issue 25). A ``redis.Redis``
    is safe to share; it takes a connection from its pool for each command."""

    def __init__(self, servers: Any, **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's private helpers (the stubs leave them out), as its own get_client uses.
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
            new = self._client(connection_pool=pool)  # type: ignore[attr-defined]
            client = self._clients.setdefault(index, new)
        return client


class FailSoftRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClient
        self._down_until = 0.0
        self._lock = threading.Lock()

    def _retry_seconds(self) -> float:
        return float(getattr(settings, "CACHE_RETRY_SECONDS", 5))

    def _guarded(self, call: Callable[[], T], fallback: T) -> T:
        if time.monotonic() < self._down_until:
            return fallback
        try:
            return call()
        except RedisError as exc:
            with self._lock:
                if time.monotonic() >= self._down_until:
                    # Type only: a Redis error message may quote a key, and keys carry ids.
                    logger.warning("Cache unavailable, degrading: %s", type(exc).__name__)
                self._down_until = time.monotonic() + self._retry_seconds()
            return fallback

    def available(self) -> bool:
        """Ask Redis now, whatever the recent failures (for /healthz)."""
        try:
            self._cache.get_client(write=True).ping()
        except RedisError:
            return False
        self._down_until = 0.0
        return True

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        return self._guarded(lambda: RedisCache.add(self, key, value, timeout, version), False)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._guarded(lambda: RedisCache.get(self, key, default, version), default)

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        self._guarded(lambda: RedisCache.set(self, key, value, timeout, version), None)

    def touch(self, key: Any, timeout: Any = None, version: int | None = None) -> bool:
        return self._guarded(lambda: RedisCache.touch(self, key, timeout, version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._guarded(lambda: RedisCache.delete(self, key, version), False)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        return self._guarded(lambda: RedisCache.get_many(self, keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._guarded(lambda: RedisCache.has_key(self, key, version), False)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        # A counter that cannot be read is "missing": callers (django-ratelimit) treat a
        # ValueError as "the cache failed" and apply their fail-open/closed rule.
        result = self._guarded(lambda: RedisCache.incr(self, key, delta, version), None)
        if result is None:
            raise ValueError("cache unavailable")
        return result

    def set_many(
        self, data: dict[Any, Any], timeout: Any = None, version: int | None = None
    ) -> list[Any]:
        return self._guarded(lambda: RedisCache.set_many(self, data, timeout, version), list(data))

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        self._guarded(lambda: RedisCache.delete_many(self, keys, version), None)

    def clear(self) -> None:
        self._guarded(lambda: RedisCache.clear(self), None)
