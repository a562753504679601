"""Background loops that outlive a database blip (docs/operations.md, «Supervision»).

The outbox worker, the sweeps and the draw runner used to exit at the first lost
connection and stay down until someone restarted them: nothing was lost, but
confirmations, offer expiries and draws stopped. Now a database that is down, restarting
or dropping connections costs a log line and a pause that doubles up to
`BACKOFF_CAP_SECONDS`; the next round opens a fresh connection. What supervises the
processes themselves (systemd units) is in docs/operations.md.
"""

import contextlib
import logging
import time
from collections.abc import Callable

from django.db import InterfaceError, OperationalError, close_old_connections, connections

logger = logging.getLogger(__name__)

# What a lost, refused or broken connection raises through Django.
DATABASE_DOWN: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0


def backoff(failures: int) -> float:
    """The pause after the ``failures``-th failure in a row: 1, 2, 4 … 30 s."""
    return min(BACKOFF_CAP_SECONDS, BACKOFF_FIRST_SECONDS * 2.0 ** max(failures - 1, 0))


def connections_drop() -> None:
    """Forget every connection, broken ones included; the next query opens a new one."""
    for connection in connections.all(initialized_only=True):
        with contextlib.suppress(*DATABASE_DOWN):
            connection.close()


def repeat(
    step: Callable[[], None],
    *,
    every: float,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run ``step`` once (``every=0``: for cron or a timer, which retry; a database error
    is raised) or every ``every`` seconds for good, outliving database outages."""
    failures = 0
    while True:
        try:
            if every:
                # A long-lived loop drops a connection that died or aged between rounds
                # (once, the process is fresh; and inside a test's transaction this would
                # close the test's own connection).
                close_old_connections()
            step()
        except DATABASE_DOWN as exc:
            if not every:
                raise
            failures += 1
            pause = backoff(failures)
            logger.warning(
                "%s: the database is unavailable (%s: %s); next try in %.0f s",
                what,
                type(exc).__name__,
                str(exc).strip().splitlines()[0] if str(exc).strip() else "",
                pause,
            )
            connections_drop()
            sleep(pause)
            continue
        if failures:
            logger.warning("%s: the database is back after %s failed tries", what, failures)
            failures = 0
        if not every:
            return
        sleep(every)
