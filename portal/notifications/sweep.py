"""The sweep: the outbox's periodic round (`manage.py notifications_sweep --every 60`).

Each round writes the messages of events no polling worker took (`polling`), the
reminders that fell due (`reminders`; the polling workers send them), enqueues the rows
no worker took within the grace (no polling worker runs, or a task was lost), and
returns the rows of workers that died to the queue. It is what makes "never forgotten
after commit" true; running it twice at once is harmless (docs/notifications.md).
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from portal.notifications.delivery import enqueue_delivery
from portal.notifications.models import Message, Status
from portal.notifications.polling import events_fan_out
from portal.notifications.reminders import reminders_write

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    told: int  # events whose messages no polling worker had written yet
    reminded: int  # reminder rows written: their time had come
    reclaimed: int  # taken by a worker that never acknowledged (it died)
    enqueued: int  # due, and their task never came (or they were never enqueued)


def outbox_sweep(now: datetime.datetime | None = None, limit: int = 5000) -> SweepResult:
    """One round of the sweep. Enqueueing a message twice is harmless: a worker claims a
    row only while it is queued and due."""
    now = now or timezone.now()
    told = _events_fan_out_all()
    reminded = reminders_write(now)
    grace = datetime.timedelta(seconds=settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS)
    stale = Message.objects.filter(status=Status.SENDING, lease_until__lt=now)
    # A message whose every attempt killed its worker must not kill workers forever.
    stale.filter(attempts__gte=settings.NOTIFICATIONS_MAX_ATTEMPTS).update(
        status=Status.FAILED,
        lease_until=None,
        error="Обработчик останавливался на каждой попытке отправки",
    )
    reclaimed = stale.update(
        status=Status.QUEUED,
        next_attempt_at=now,
        enqueued_for=None,
        lease_until=None,
        error="Обработчик не подтвердил отправку (остановлен?); повтор с тем же идентификатором",
    )
    # Due a while ago and still queued: no polling worker took it (none runs, or the task
    # backend is another one), or the task asked for it was lost.
    due = list(
        Message.objects.filter(status=Status.QUEUED, next_attempt_at__lte=now - grace)
        .filter(Q(enqueued_for__isnull=True) | Q(enqueued_for__lte=now - grace))
        .order_by("next_attempt_at")
        .values_list("pk", "channel")[:limit]
    )
    if due:
        Message.objects.filter(pk__in=[pk for pk, _channel in due]).update(enqueued_for=now)
        enqueue_delivery(due)
    _orphans_forget(now)
    if told or reminded or reclaimed or due:
        logger.info(
            "outbox sweep: %s events told, %s reminders written, %s reclaimed, %s enqueued",
            told,
            reminded,
            reclaimed,
            len(due),
        )
    return SweepResult(told=told, reminded=reminded, reclaimed=reclaimed, enqueued=len(due))


def _events_fan_out_all() -> int:
    told = 0
    while taken := events_fan_out(limit=500):
        told += taken
    return told


def _orphans_forget(now: datetime.datetime) -> int:
    """Delivery tasks a killed worker left RUNNING for a day: their messages were re-queued
    long ago (the lease), and the library's pruning only removes finished tasks."""
    from django_tasks_db.models import DBTaskResult

    return int(
        DBTaskResult.objects.filter(
            status="RUNNING",
            task_path__startswith="portal.notifications.",
            started_at__lt=now - datetime.timedelta(days=1),
        ).delete()[0]
    )
