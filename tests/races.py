"""What the PostgreSQL race tests share: start calls at the same moment, one connection
per thread, and collect how each ended (docs/concurrency.md, «Tests»)."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections, models, transaction

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


@contextmanager
def row_held(model: type[models.Model], pk: int) -> Iterator[None]:
    """Another connection holds ``model``'s row ``pk`` locked (SELECT … FOR UPDATE) for the
    duration of the block, as a slow transaction would."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                model._default_manager.select_for_update().get(pk=pk)
                locked.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=10), "the row could not be locked"
        yield
    finally:
        release.set()
        holder.join(timeout=10)
