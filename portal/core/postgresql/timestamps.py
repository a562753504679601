"""`timestamptz` values read by psycopg's own loader, its C one with ``psycopg[binary]``.

Django registers a loader of its own for ``timestamptz`` (``BaseTzLoader``): a Python
subclass of psycopg's pure-Python loader, which parses every value with a regular
expression and then replaces its time zone. A page of twenty slots reads forty-odd
timestamps; that loader spends about 4 µs on each, psycopg's C loader 0.3 µs
(docs/performance.md, «Timestamps read by psycopg's C loader»).

`UtcTimestamptzLoader` keeps Django's contract, an aware ``datetime`` in
``datetime.timezone.utc``, and lets psycopg's default loader parse. Django's
``create_cursor`` reads the registered loader's ``timezone`` to decide whether a cursor
needs a loader of its own; this one says UTC, so none is registered per cursor.
"""

import datetime
import functools
from typing import Any

import psycopg
from psycopg.adapt import AdaptersMap, Buffer, Loader
from psycopg.pq import Format

UTC = datetime.UTC
_TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid
# psycopg's global map, which Django copies for its connections and never changes: with
# psycopg[binary] this is the C loader (a final class, so it is wrapped, not subclassed).
_PSYCOPG_LOADER = psycopg.adapters.get_loader(_TIMESTAMPTZ_OID, Format.TEXT)


class UtcTimestamptzLoader(Loader):
    timezone = UTC  # what Django's create_cursor compares with its own time zone

    def __init__(self, oid: int, context: Any = None) -> None:
        super().__init__(oid, context)
        assert _PSYCOPG_LOADER is not None
        self._parse = _PSYCOPG_LOADER(oid, context).load

    def load(self, data: Buffer) -> datetime.datetime:
        value: datetime.datetime = self._parse(data)
        # psycopg answers in the session's time zone: UTC on Django's connections, which
        # set it on connecting. Any other zone is the same instant, given in UTC.
        return value if value.tzinfo is UTC else value.astimezone(UTC)


@functools.cache
def with_psycopg_timestamps(template: AdaptersMap) -> AdaptersMap:
    """A copy of Django's adapters for a connection, with `UtcTimestamptzLoader`.

    Django builds ``template`` once per time zone (it is cached), so this is too."""
    context = AdaptersMap(template)
    context.register_loader(_TIMESTAMPTZ_OID, UtcTimestamptzLoader)
    return context
