"""The task queue's entry points (Django's Tasks API, database backend).

`deliver_messages` lives beside the delivery it runs (`delivery`), which re-enqueues a
message whose attempt was deferred; the sweep's task is here, above the sweep.
"""

from django_tasks import task

from portal.notifications import sweep
from portal.notifications.delivery import deliver_messages as deliver_messages


@task()
def sweep_outbox() -> int:
    result = sweep.outbox_sweep()
    return result.enqueued
