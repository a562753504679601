"""Django's ``cached_db`` session engine, reading with the session what every request
reads from the shared cache anyway (`core.cache.read_with_session`: the directory's
generation): one round trip to Redis per page instead of two (docs/performance.md, issue 25).

Only the read changes. A session missing from the cache is read from the database and
put back exactly as ``cached_db`` does; Redis down answers every key as missing
(`core.cache.FailSoftRedisCache`), and each reader then does what it does without Redis.
"""

from typing import Any

from django.contrib.sessions.backends import cached_db
from django.core.cache import DEFAULT_CACHE_ALIAS, caches

from portal.core.cache import read_with_session_keys


class SessionStore(cached_db.SessionStore):
    def load(self) -> dict[str, Any]:
        cache = self._cache  # type: ignore[attr-defined]  # cached_db's, not in the stubs
        along = read_with_session_keys() if cache is caches[DEFAULT_CACHE_ALIAS] else {}
        if not along:
            return super().load()
        try:
            found = cache.get_many([self.cache_key, *along])
        except Exception:  # as cached_db: a key the backend refuses is a missing session
            found = {}
        for key, receive in along.items():
            receive(found.get(key))
        data = found.get(self.cache_key)
        if data is None:
            return super().load()
        return data  # type: ignore[no-any-return]
