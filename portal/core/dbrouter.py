"""Reads of the directory and the slot search from a streaming replica; all else on the primary.

docs/operations.md («Several app servers») has the topology. The rules:

- Only code inside `replica_reads()` (the wizard's and the API's search views, through
  `replica_reads_view`) may read from the replica, and there only the directory
  (districts, clinics, specialties, doctors) and slots. A patient, an appointment, a
  session, a rate-limit counter: always the primary.
- No booking decision reads the replica: the booking service runs under `primary_reads()`
  (which switches the replica off even inside a search view), and a query inside a
  transaction on the primary never goes to the replica.
- Every write goes to the primary.
- A replica that lags more than REPLICA_MAX_LAG_SECONDS, stops streaming, or does not
  answer is left alone until the next probe (every REPLICA_CHECK_SECONDS, per process);
  reads fall back to the primary. A search view that loses the replica mid-request is
  run again on the primary (`replica_reads_view`), so the patient sees the page, not 503.

The replica is the optional alias "replica" (DATABASE_REPLICA_URL); without it every read
goes to the primary and none of this costs anything.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

REPLICA = "replica"
# What a search may read from the replica: reference data and slots. Anything a booking
# rule reads about the patient (their appointments) stays on the primary.
REPLICA_MODELS = frozenset({"directory.district", "directory.clinic", "directory.specialty",
                            "directory.doctor", "scheduling.slot"})  # fmt: skip


@dataclass
class _Reads:
    """What the current request (or block) allows, and whether it used the replica."""

    replica: bool
    used: bool = False
    # Degraded mode (`core.degraded`): the primary does not answer, and a read-only page
    # reads everything from the replica, however far behind it is.
    everything: bool = False


_reads: ContextVar[_Reads | None] = ContextVar("portal_replica_reads", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@dataclass(frozen=True)
class ReplicaStatus:
    usable: bool
    lag_seconds: float | None
    reason: str


# The probe's answer, per process: one query to the replica every REPLICA_CHECK_SECONDS.
_status_lock = threading.Lock()
_status: dict[str, Any] = {"at": -1e9, "status": ReplicaStatus(False, None, "not probed")}

LAG_SQL = (
    "SELECT pg_is_in_recovery(), "
    # Nothing to replay: as fresh as the primary, however long ago its last transaction.
    "CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END, "
    "(SELECT status FROM pg_stat_wal_receiver LIMIT 1)"
)


def replica_probe() -> ReplicaStatus:
    """Ask the replica how far behind it is. Any error means unusable."""
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(LAG_SQL)
            in_recovery, lag, receiver = cursor.fetchone()
    except Exception as exc:  # an unreachable replica must never break a page
        _close_replica()
        return ReplicaStatus(False, None, f"unreachable: {type(exc).__name__}")
    if not in_recovery:
        # Promoted (a failover) or not a replica at all: as current as a primary.
        return ReplicaStatus(True, 0.0, "not in recovery")
    lag = float(lag or 0.0)
    if receiver != "streaming":
        # Replays what it has, but hears nothing new from the primary: stale by an
        # unknown amount.
        return ReplicaStatus(False, lag, f"wal receiver {receiver or 'stopped'}")
    if lag > settings.REPLICA_MAX_LAG_SECONDS:
        return ReplicaStatus(False, lag, "lagging")
    return ReplicaStatus(True, lag, "streaming")


def replica_status(now: float | None = None) -> ReplicaStatus:
    """The last probe's answer, probing again when it is older than REPLICA_CHECK_SECONDS."""
    now = time.monotonic() if now is None else now
    with _status_lock:
        if now - _status["at"] < settings.REPLICA_CHECK_SECONDS:
            return _status["status"]  # type: ignore[no-any-return]
        _status["at"] = now  # one prober per interval; the others keep the last answer
    status = replica_probe()
    with _status_lock:
        previous: ReplicaStatus = _status["status"]
        _status["status"] = status
    if status.usable != previous.usable:
        logger.warning(
            "replica %s (%s)", "in use" if status.usable else "left alone", status.reason
        )
    return status


def replica_mark_down(reason: str) -> None:
    """A query on the replica failed: use the primary until the next probe."""
    with _status_lock:
        _status["at"] = time.monotonic()
        _status["status"] = ReplicaStatus(False, None, reason)
    _close_replica()
    logger.warning("replica left alone (%s)", reason)


def replica_status_reset() -> None:
    """Forget the last probe (tests; a process that changed its settings)."""
    with _status_lock:
        _status["at"] = -1e9
        _status["status"] = ReplicaStatus(False, None, "not probed")


def _close_replica() -> None:
    try:
        connections[REPLICA].close()
    except Exception:  # closing a dead connection may fail too; it is gone either way
        logger.debug("closing the replica connection failed", exc_info=True)


@contextmanager
def replica_reads() -> Iterator[_Reads]:
    """Inside: directory and slot reads may come from the replica (a search)."""
    reads = _Reads(replica=True)
    token = _reads.set(reads)
    try:
        yield reads
    finally:
        _reads.reset(token)


@contextmanager
def replica_reads_everything() -> Iterator[_Reads]:
    """Inside: every read from the replica (a read-only page while the primary is down);
    writes still go to the primary, and fail there."""
    reads = _Reads(replica=True, everything=True)
    token = _reads.set(reads)
    try:
        yield reads
    finally:
        _reads.reset(token)


def reading_everything_from_replica() -> bool:
    """Degraded mode inside this request: every read, the directory's too, from the replica
    (whatever its lag), so nothing read here may be kept as the primary's (directory.cache)."""
    reads = _reads.get()
    return reads is not None and reads.everything and replica_configured()


@contextmanager
def primary_reads() -> Iterator[None]:
    """Inside: every read from the primary, even within a search view (booking decisions)."""
    token = _reads.set(_Reads(replica=False))
    try:
        yield
    finally:
        _reads.reset(token)


View = Callable[..., HttpResponse]
DATABASE_DOWN = (OperationalError, InterfaceError)


def replica_reads_view(view: View) -> View:
    """A search view whose directory and slot reads may come from the replica.

    A read-only GET: if the replica dies under it, it is run once more on the primary.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not replica_configured():
            return view(request, *args, **kwargs)
        with replica_reads() as reads:
            try:
                return view(request, *args, **kwargs)
            except DATABASE_DOWN as exc:
                if not reads.used:
                    raise
                replica_mark_down(f"query failed: {type(exc).__name__}")
        with primary_reads():
            return view(request, *args, **kwargs)

    return wrapper


class PrimaryReplicaRouter:
    """Django's database router (settings.DATABASE_ROUTERS); see the module docstring."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        reads = _reads.get()
        if reads is not None and reads.everything and replica_configured():
            reads.used = True
            return REPLICA
        if (
            reads is not None
            and reads.replica
            and model._meta.label_lower in REPLICA_MODELS
            and replica_configured()
            # Inside a transaction on the primary (a booking, a write): what it reads
            # decides what it writes, so it reads what it locks.
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
            and replica_status().usable
        ):
            reads.used = True
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        # The replica holds the primary's rows: a doctor read there may point at a clinic
        # read here.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA, None}:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # A streaming replica is read-only and follows the primary's schema by itself.
        return db != REPLICA
