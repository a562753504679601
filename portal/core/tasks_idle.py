"""What a task worker does when its queue is empty: work the apps register.

The outbox's messages are not tasks: a worker finding no task looks at the outbox itself
(`notifications.polling.outbox_poll`, registered in that app's ``ready()``), so a
booking writes no task row (issue 25). The core never imports the apps above it
(docs/architecture.md, «Layers»): they register here.
"""

import logging
from collections.abc import Callable

from portal.core.resilience import DATABASE_DOWN

logger = logging.getLogger(__name__)

# (the worker's queue names, "*" for all; the queues it excludes) -> units of work done
IdleWork = Callable[[list[str], list[str]], int]
_registered: list[IdleWork] = []


def idle_work_register(work: IdleWork) -> IdleWork:
    if work not in _registered:
        _registered.append(work)
    return work


def idle_work_run(queue_names: list[str], excluded: list[str]) -> int:
    """Run every registered piece of idle work; how much was done (0: sleep).

    A failing piece is logged and counts as nothing done: it must not stop the worker, and
    with it the tasks (draws, offers) it runs. A database that is down is the worker's to
    ride out (`tasks_worker`), so that is raised."""
    done = 0
    for work in _registered:
        try:
            done += work(queue_names, excluded)
        except DATABASE_DOWN:
            raise
        except Exception:
            logger.exception("idle work %s failed; the worker goes on", work.__qualname__)
    return done


def serves_queue(queue: str, queue_names: list[str], excluded: list[str]) -> bool:
    """Whether a worker started with these queue options takes ``queue``'s tasks."""
    if queue in excluded:
        return False
    return "*" in queue_names or queue in queue_names
