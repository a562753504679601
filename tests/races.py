"""What the PostgreSQL race tests share: start calls at the same moment, one connection
per thread, and collect how each ended (docs/concurrency.md, «Tests»)."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections

from portal.core.errors import Refused


def run_at_once(calls: list[Callable[[], Any]], *, success: str | None = None) -> list[Any]:
    """Each call's outcome, in the order they finished: its result (or ``success`` when
    given), the refusal's code, or ``"error: …"`` for any other exception, which the test
    then fails on. Each thread closes its connections: they are its own."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = []
    guard = threading.Lock()

    def worker(call: Callable[[], Any]) -> None:
        outcome: Any
        try:
            barrier.wait()
            result = call()
            outcome = success if success is not None else result
        except Refused as refused:
            outcome = refused.code
        except Exception as exc:  # any escaping exception fails the test
            outcome = f"error: {exc!r}"
        finally:
            connections.close_all()
        with guard:
            outcomes.append(outcome)

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes
