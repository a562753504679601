"""The locking policy every writer follows (docs/concurrency.md), in one module.

Row locks are taken inside the writer's transaction, time-boxed by
settings.SCHEDULING_LOCK_TIMEOUT_MS on PostgreSQL (SQLite has its busy timeout), in the
order docs/concurrency.md gives (patient rows by id, then slot rows). A lock wait that
runs out, or a deadlock PostgreSQL broke, is told apart from any other database error by
the driver's code, never by the message text, and becomes a refusal ("busy") or a retry
of the whole transaction — never a 500.
"""

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.conf import settings
from django.db import OperationalError, connection
from django.db.transaction import TransactionManagementError

logger = logging.getLogger(__name__)
_Result = TypeVar("_Result")

PG_LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout expired
PG_DEADLOCK_DETECTED = "40P01"
SQLITE_LOCK_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def require_transaction() -> None:
    """Row locks outside a transaction are released at once: refuse to pretend."""
    if not connection.in_atomic_block:
        raise TransactionManagementError("row locks must be taken inside the transaction")


def lock_timeout_statement() -> tuple[str, list[str]] | None:
    """The statement of `lock_timeout_set` (None where there is none: SQLite), for a
    writer that sends it in one round trip with its first lock (the booking's
    `patients.locks.patient_lock_fresh`)."""
    if connection.vendor != "postgresql":
        return None
    return (
        "SELECT set_config('lock_timeout', %s, true)",
        [f"{settings.SCHEDULING_LOCK_TIMEOUT_MS}ms"],
    )


def lock_timeout_set() -> None:
    """Time-box every row lock of this transaction (PostgreSQL; SQLite has its busy timeout)."""
    require_transaction()
    statement = lock_timeout_statement()
    if statement is not None:
        with connection.cursor() as cursor:
            cursor.execute(*statement)


def is_lock_timeout(exc: OperationalError) -> bool:
    """A lock wait that ran out: PostgreSQL's lock_not_available, SQLite's busy/locked."""
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) == PG_LOCK_NOT_AVAILABLE:
        return True
    code = getattr(cause, "sqlite_errorcode", None)
    # Extended codes (SQLITE_BUSY_SNAPSHOT, …) keep the primary code in the low byte.
    return isinstance(code, int) and code & 0xFF in SQLITE_LOCK_CODES


def is_deadlock(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) == PG_DEADLOCK_DETECTED


@contextmanager
def busy_on_lock_timeout(refusal: Callable[[], Exception]) -> Iterator[None]:
    """Turn a lock wait that ran out into the caller's "busy" refusal."""
    try:
        yield
    except OperationalError as exc:
        if is_lock_timeout(exc):
            raise refusal() from exc
        raise


def retried_whole(
    write: Callable[[], _Result],
    *,
    attempts: int,
    what: str,
    refusal: Callable[[], Exception],
) -> _Result:
    """Run a durable transaction again from the start after a deadlock or a lock timeout
    (it rolled back whole); the caller's "busy" refusal once ``attempts`` are used up."""
    for attempt in range(attempts):
        try:
            return write()
        except OperationalError as exc:
            if not (is_lock_timeout(exc) or is_deadlock(exc)):
                raise
            if attempt == attempts - 1:
                raise refusal() from exc
            logger.info("%s retried after %s", what, exc)
    raise AssertionError("unreachable")
