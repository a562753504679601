"""DATABASES for portal/settings.py: SQLite by default, PostgreSQL with every wait bounded
(docs/operations.md, «Degraded mode»), a streaming replica when one is configured."""

from pathlib import Path
from typing import Any

import dj_database_url

from portal.env import env_int, env_str


def _postgres_options(
    connect_timeout: int, statement_timeout_ms: int, idle_in_transaction_ms: int
) -> dict[str, Any]:
    """Connect timeout, the server's statement and idle-in-transaction timeouts, the
    client's own deadline a second after the statement timeout, TCP keepalives."""
    server = [f"-c idle_in_transaction_session_timeout={idle_in_transaction_ms}"]
    options: dict[str, Any] = {
        "connect_timeout": connect_timeout,
        # A peer that vanished (no ACKs) is noticed on an idle kept connection too.
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
    }
    if statement_timeout_ms > 0:
        server.append(f"-c statement_timeout={statement_timeout_ms}")
        options["answer_timeout"] = statement_timeout_ms / 1000 + 1
    options["options"] = " ".join(server)
    return options


def _with_url_options(db: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """The URL's own OPTIONS (``?sslmode=…``) kept; its ``options`` string joined to ours."""
    theirs = dict(db.get("OPTIONS", {}))
    if theirs.get("options"):
        ours["options"] = f"{theirs['options']} {ours['options']}"
    return {**theirs, **ours}


def databases_from_env(
    data_dir: Path, *, connect_timeout: int, statement_timeout_ms: int, idle_in_transaction_ms: int
) -> dict[str, dict[str, Any]]:
    """DATABASES from DATABASE_URL (SQLite in ``data_dir`` by default) and
    DATABASE_REPLICA_URL, every PostgreSQL alias with its bounded waits."""
    url = env_str("DATABASE_URL", "")
    if not url:
        url = f"sqlite:///{data_dir / 'portal.sqlite3'}"
    db: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    )
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the
        # busy timeout instead of failing mid-transaction with "database is locked".
        db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        db["CONN_MAX_AGE"] = 0
    else:
        db["ENGINE"] = "portal.core.postgresql"
        db["OPTIONS"] = _with_url_options(
            db, _postgres_options(connect_timeout, statement_timeout_ms, idle_in_transaction_ms)
        )
        db["CONN_HEALTH_CHECKS"] = True
        test_name = env_str("TEST_DATABASE_NAME", "")
        if test_name:
            db["TEST"] = {"NAME": test_name}
    databases = {"default": db}
    replica_url = env_str("DATABASE_REPLICA_URL", "")
    if replica_url:
        # A streaming replica of the primary for the directory and the slot search
        # (portal.core.dbrouter; docs/operations.md). A short connect timeout: a dead
        # replica costs a page at most this long before reads fall back to the primary.
        replica: dict[str, Any] = dict(
            dj_database_url.parse(replica_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
        )
        replica["ENGINE"] = "portal.core.postgresql"
        replica["OPTIONS"] = _with_url_options(
            replica,
            _postgres_options(
                env_int("REPLICA_CONNECT_TIMEOUT", 1), statement_timeout_ms, idle_in_transaction_ms
            ),
        )
        replica["CONN_HEALTH_CHECKS"] = True
        replica["TEST"] = {"MIRROR": "default"}
        databases["replica"] = replica
    return databases
