"""Times read from PostgreSQL by psycopg's own loader (portal/core/postgresql/timestamps.py).

What a patient sees depends on it: every slot's start, every appointment's time. The
values must be the instants stored, aware and in UTC as Django gives them, whichever
cursor reads them (Django's, or the prepared one of `core.compiled`) and whatever time
zone the session is in.
"""

import datetime

import pytest
from django.db import connection, connections
from django.db.backends.postgresql.psycopg_any import BaseTzLoader

from portal.core.postgresql.base import DatabaseWrapper
from portal.core.postgresql.timestamps import UtcTimestamptzLoader

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]

UTC = datetime.UTC
IRKUTSK = datetime.timezone(datetime.timedelta(hours=8))
INSTANTS = [
    datetime.datetime(2026, 12, 7, 8, 30, tzinfo=UTC),
    datetime.datetime(2026, 12, 7, 8, 30, 0, 5, tzinfo=UTC),
    datetime.datetime(2027, 3, 1, 23, 59, 59, 999999, tzinfo=UTC),
    datetime.datetime(1, 1, 1, 0, 0, tzinfo=UTC),
    datetime.datetime(2026, 6, 30, 16, 0, tzinfo=IRKUTSK),
]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("psycopg's loaders are PostgreSQL's")


def _read_back(cursor) -> list[datetime.datetime]:
    cursor.execute(
        "SELECT v FROM unnest(%s::timestamptz[]) WITH ORDINALITY AS t(v, n) ORDER BY n",
        [INSTANTS],
    )
    return [row[0] for row in cursor.fetchall()]


def test_times_read_back_are_the_instants_stored_in_utc():
    with connection.cursor() as cursor:
        values = _read_back(cursor)
    assert values == INSTANTS
    assert all(value.tzinfo is UTC for value in values)
    assert values[4].hour == 8  # 16:00 in Irkutsk is 08:00 UTC


def test_the_prepared_cursor_reads_them_alike():
    wrapper = connections["default"]
    assert isinstance(wrapper, DatabaseWrapper)
    with wrapper.prepared_cursor() as cursor:
        values = _read_back(cursor)
    assert values == INSTANTS
    assert all(value.tzinfo is UTC for value in values)


def test_another_session_time_zone_still_gives_the_same_instants():
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Asia/Irkutsk'")
        try:
            values = _read_back(cursor)
        finally:
            cursor.execute("SET TIME ZONE 'UTC'")
    assert values == INSTANTS
    assert all(value.tzinfo is UTC for value in values)


def test_the_loader_is_psycopgs_own_not_djangos_regular_expression():
    connection.ensure_connection()
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(1184, 0)  # timestamptz, text
    assert loader is UtcTimestamptzLoader
    assert not issubclass(loader, BaseTzLoader)
