"""Django's PostgreSQL backend, with no wait for the server longer than a few seconds.

A database that accepts connections and then never answers (a hung primary, a network
that drops packets silently, a stuck proxy) must not hold a worker until gunicorn kills
it (issue 24): every wait is bounded, the error is an ``OperationalError``, and
`portal.core.outage` turns it into the Russian 503 with ``Retry-After``.

- **Connecting**: ``connect_timeout`` (``DB_CONNECT_TIMEOUT``), which psycopg applies to
  the whole handshake, authentication included.
- **Each statement, commit and rollback**: the server's own ``statement_timeout``
  (``DB_STATEMENT_TIMEOUT_MS``, sent in the connection's ``options``) cancels a slow
  query on a live server and keeps the connection; when the server does not answer at
  all, the client gives up ``ANSWER_MARGIN_SECONDS`` later and closes the connection
  (``OPTIONS["answer_timeout"]``, psycopg's ``Connection.wait(timeout=…)``).
- **The health check** before a kept connection is reused (``CONN_HEALTH_CHECKS``) waits
  ``HEALTH_CHECK_SECONDS``: a hung server is found in one second, not nine.
- **A read that stands for the health check** (`DatabaseWrapper.read_as_health_check`):
  a logged-in request's first statement is the read of its user, an indexed read of a
  millisecond, so it does the health check's work instead of following a ``SELECT 1``
  (one round trip less on every page, docs/performance.md, «The user's read as the
  health check»). It gets the check's deadline, and a connection found dead by it is
  replaced and the read sent again, as the check would have done.

A connection whose wait ran out is closed at once: its protocol state is unknown, and
Django's next request opens a new one.

**Not waiting twice.** Once a wait of this process ran out (a connect, a statement, a
health check), new connections to that alias are refused at once for
``UNANSWERED_HOLD_SECONDS``: a page touches the database several times (the session,
the user, the view, the session again on the way out), and without this each touch
would wait the connect timeout again — the drill measured 6 s for one page.
"""

import datetime
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from django.db import InterfaceError, OperationalError
from django.db.backends.postgresql import base, operations
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.pq import Format

from portal.core.postgresql.timestamps import with_psycopg_timestamps

HEALTH_CHECK_SECONDS = 1.0
UNANSWERED_HOLD_SECONDS = 2.0
T = TypeVar("T")

# alias -> time.monotonic() until which a new connection is not even tried.
_unanswered_until: dict[str, float] = {}
_unanswered_lock = threading.Lock()


def unanswered_mark(alias: str) -> None:
    with _unanswered_lock:
        _unanswered_until[alias] = time.monotonic() + UNANSWERED_HOLD_SECONDS


def unanswered_recently(alias: str) -> bool:
    with _unanswered_lock:
        return time.monotonic() < _unanswered_until.get(alias, 0.0)


def unanswered_forget() -> None:
    """Tests: start from a database that answers."""
    with _unanswered_lock:
        _unanswered_until.clear()


class DatabaseUnanswered(psycopg.OperationalError):
    """The server did not answer within the deadline; the connection is closed."""


class BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection whose every wait for the server ends after ``answer_timeout``."""

    answer_timeout: float | None = None
    alias: str = ""

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        limit = timeout if timeout is not None else self.answer_timeout
        try:
            return super().wait(gen, interval=interval, timeout=limit)
        except psycopg.errors._WaitTimeout as exc:
            # The protocol is mid-message: this connection can never be used again.
            self.close()
            unanswered_mark(self.alias)
            raise DatabaseUnanswered(
                f"the database did not answer within {limit:g} s; connection closed"
            ) from exc


# psycopg prepares a statement after this many runs: never, in effect. Django's default
# (None) turns preparing off altogether, even when asked; with a number, only the
# statements sent through `DatabaseWrapper.prepared_cursor` are prepared, every other
# one goes as before (Django's client-side binding never prepares).
ONLY_WHEN_ASKED = 1 << 30


class PreparedCursor(psycopg.Cursor[Any]):
    """Every statement prepared on the server the first time this connection sends it,
    then only bound and executed: no parsing and planning again (docs/performance.md,
    «Prepared statements for the compiled reads»)."""

    def execute(
        self,
        query: Any,
        params: Any = None,
        *,
        prepare: bool | None = None,
        binary: bool | None = None,
    ) -> Any:
        return super().execute(query, params, prepare=True, binary=binary)


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str:
        # A prepared statement is bound on the server: the log (and the tests counting
        # statements) get it with its values written in, as every other statement.
        if isinstance(cursor, PreparedCursor):
            return str(self.compose_sql(sql, params))
        answer: str = super().last_executed_query(cursor, sql, params)
        return answer


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        # Ours, not libpq's: psycopg would refuse an unknown connection parameter.
        params.pop("answer_timeout", None)
        if "prepare_threshold" not in self.settings_dict["OPTIONS"]:  # None there: never
            params["prepare_threshold"] = ONLY_WHEN_ASKED
        if self.timezone is datetime.UTC and "context" in params:
            params["context"] = with_psycopg_timestamps(params["context"])
        return params

    def prepared_cursor(self) -> Any:
        """A cursor (Django's wrapper: logged, counted, errors translated) whose
        statements are prepared once per connection and kept (psycopg's cache of
        ``prepared_max`` statements). For fixed SQL with values as parameters: the
        narrow reads of `core.compiled`, and the booking's locks and writes
        (`core.rows.prepared`); a plan generic to the values must do (docs/performance.md,
        «The booking's statements prepared»). A rollback makes psycopg forget them all."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            cursor = PreparedCursor(self.connection)
            # As Django's create_cursor: the cursor's time zone when the connection's differs.
            loader = self.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, Format.TEXT)
            if self.timezone != loader.timezone:
                register_tzloader(self.timezone, cursor)
            return self._prepare_cursor(cursor)  # type: ignore[attr-defined]

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        if unanswered_recently(self.alias):
            raise DatabaseUnanswered(
                "the database did not answer a moment ago; not waiting for it again yet"
            )
        try:
            connection = super().get_new_connection(conn_params)
        except psycopg.errors.ConnectionTimeout:
            unanswered_mark(self.alias)
            raise
        if isinstance(connection, psycopg.Connection) and not self.pool:
            # Django connects with psycopg.connect; the class only adds the bounded wait.
            connection.__class__ = BoundedConnection
            timeout = self.settings_dict["OPTIONS"].get("answer_timeout")
            connection.answer_timeout = float(timeout) if timeout else None  # type: ignore[attr-defined]
            connection.alias = self.alias  # type: ignore[attr-defined]
        return connection

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None:
            return False
        saved = getattr(connection, "answer_timeout", None)
        # SELECT 1 answers in a millisecond; waiting longer only delays the 503.
        connection.answer_timeout = HEALTH_CHECK_SECONDS
        try:
            connection.execute("SELECT 1")
        except psycopg.Error:
            return False
        finally:
            connection.answer_timeout = saved
        return True

    def read_as_health_check(self, read: Callable[[], T]) -> T:
        """``read()``, standing for this request's health check when it is still due.

        For a read that answers in a millisecond (the session's user, `core.compiled`'s
        ``health_check`` reads) on a kept connection not yet checked in this request: the
        read gets ``HEALTH_CHECK_SECONDS``, as the ``SELECT 1`` would. A hung server
        raises within that second (and is not asked again, `unanswered_mark`); a
        connection the server has closed since (a restart, an idle-session timeout) is
        closed here and the read sent once more on a new one. Inside a transaction, or
        with the check done, it is an ordinary read.
        """
        connection = self.connection
        # Django's own flags (set by connect() and by each request's start), not in the stubs.
        due = getattr(self, "health_check_enabled", False) and not getattr(
            self, "health_check_done", True
        )
        if connection is None or not due or self.in_atomic_block:
            return read()
        self.health_check_done = True
        saved = getattr(connection, "answer_timeout", None)
        connection.answer_timeout = HEALTH_CHECK_SECONDS
        try:
            return read()
        except (OperationalError, InterfaceError):
            if unanswered_recently(self.alias) or not (connection.closed or connection.broken):
                raise  # a hung server, or an error of the read itself: not the check's to mend
            self.close()
            return read()
        finally:
            connection.answer_timeout = saved
