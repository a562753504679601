"""Django's ``cached_db`` session engine, reading with the session what every request
reads from the shared cache anyway (`core.cache.read_with_session`: the directory's
generation): one round trip to Redis per page instead of two (docs/performance.md, issue 25).

A session missing from the cache is read from the database and put back exactly as
``cached_db`` does; Redis down answers every key as missing
(`core.cache.FailSoftRedisCache`), and each reader then does what it does without Redis.

An existing session's write — the sliding touch of `core.middleware.SlidingSessionMiddleware`,
once a minute per session, and at a day's opening for every patient at once — is one
UPDATE in autocommit instead of Django's transaction around ``Model.save`` (BEGIN, UPDATE,
COMMIT and the model's save machinery): in process 0.68 → 0.37 ms of the worker's CPU and
0.29 → 0.20 ms of the database's; under gunicorn about half the machine's cost of a touch
(docs/performance.md, «The session's touch in one statement»). What it writes and when,
the cache write after it and the errors (``UpdateError`` when the row is gone or the
database refuses) are Django's. A new session is written by Django's code.
"""

import logging
from typing import Any

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.base import UpdateError
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.db import DatabaseError, connections, router

from portal.core import rows
from portal.core.cache import read_with_session_keys

logger = logging.getLogger("django.contrib.sessions")


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

    def save(self, must_create: bool = False) -> None:
        if must_create or self.session_key is None:
            super().save(must_create)  # a new session: Django's INSERT
            return
        data = self._get_session(no_load=False)  # type: ignore[attr-defined]
        try:
            updated = _row_update(
                self.model, self.session_key, self.encode(data), self.get_expiry_date()
            )
        except DatabaseError as error:  # as Django's: the request's session is interrupted
            raise UpdateError from error
        if updated != 1:  # deleted meanwhile (a logout in another tab): as Django's
            raise UpdateError
        try:  # cached_db's write of the cache, after the database's
            self._cache.set(self.cache_key, self._session, self.get_expiry_age())  # type: ignore[attr-defined]
        except Exception:
            logger.exception("Error saving to cache (%s)", self._cache)  # type: ignore[attr-defined]


def _row_update(model: Any, key: str, data: str, expires: Any) -> int:
    """``UPDATE … SET session_data, expire_date WHERE session_key`` in one statement on the
    alias Django's router gives the session's writes (prepared on PostgreSQL: its text is
    fixed); the rows it changed."""
    alias = router.db_for_write(model)
    connection = connections[alias]
    meta = model._meta
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    sql = (
        f"UPDATE {quote(meta.db_table)} SET {column('session_data')} = %s, "
        f"{column('expire_date')} = %s WHERE {column('session_key')} = %s"
    )
    expires = meta.get_field("expire_date").get_db_prep_save(expires, connection)
    with rows.prepared(alias) as cursor:
        cursor.execute(sql, [data, expires, key])
        return int(cursor.rowcount)
