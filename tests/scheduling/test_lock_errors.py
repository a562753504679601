"""A lock timeout is recognised by the driver's error code, never by the message's words."""

import sqlite3

import pytest
from django.db import OperationalError

from portal.core.locking import is_lock_timeout


def _django_error_from(cause: Exception) -> OperationalError:
    error = OperationalError(*cause.args)
    error.__cause__ = cause
    return error


def _sqlite_error(tmp_path, sql_for_second: str) -> sqlite3.OperationalError:
    path = tmp_path / "lock.sqlite3"
    first = sqlite3.connect(path, isolation_level=None)
    second = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        first.execute("CREATE TABLE t (x)")
        first.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as info:
            second.execute(sql_for_second)
        return info.value
    finally:
        first.close()
        second.close()


def test_sqlite_busy_is_a_lock_timeout(tmp_path):
    busy = _sqlite_error(tmp_path, "BEGIN IMMEDIATE")
    assert busy.sqlite_errorcode == sqlite3.SQLITE_BUSY
    assert is_lock_timeout(_django_error_from(busy))


def test_an_error_that_only_mentions_locked_is_not_a_lock_timeout(tmp_path):
    missing = _sqlite_error(tmp_path, "SELECT * FROM locked")
    assert "locked" in str(missing)  # «no such table: locked»
    assert not is_lock_timeout(_django_error_from(missing))


def test_postgresql_lock_not_available_is_a_lock_timeout():
    class LockNotAvailable(Exception):
        sqlstate = "55P03"

    class DeadlockDetected(Exception):
        sqlstate = "40P01"

    assert is_lock_timeout(_django_error_from(LockNotAvailable("canceling statement")))
    assert not is_lock_timeout(_django_error_from(DeadlockDetected("deadlock, locked")))
