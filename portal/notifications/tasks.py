"""The task queue's entry points (Django's Tasks API, database backend).

A task carries message ids only; the outbox rows are the truth. Running a task twice,
or for a row another worker holds, does nothing (see `delivery.messages_claim`).
"""

from django_tasks import task

from portal.notifications import delivery, services


@task()
def deliver_messages(message_ids: list[int]) -> int:
    return delivery.messages_deliver(message_ids)


@task()
def sweep_outbox() -> int:
    result = services.outbox_sweep()
    return result.enqueued
