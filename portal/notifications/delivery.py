"""The worker's side of the outbox: claim, re-check, send, acknowledge or retry.

Claim: rows are taken with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers
running the same ids never take the same message (SQLite runs one worker; its
IMMEDIATE transactions serialise the claim). A taken row is ``sending`` with a lease;
the gateway's acceptance is recorded at once (``sent`` + its id), and a row is never
sent again once it carries that id. See docs/notifications.md for the crash windows.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django_tasks import task

from portal.notifications import channels, timing
from portal.notifications.models import REMINDER_KINDS, Channel, Kind, Message, Status
from portal.notifications.receipts import parts_record
from portal.notifications.selectors import preference_of
from portal.scheduling.models import Appointment

logger = logging.getLogger(__name__)

TASK_CHUNK = 50  # message ids per delivery task
EMAIL_QUEUE = "email"  # its own worker: a hung relay holds up no SMS, offer or draw
THROTTLE_DELAY = datetime.timedelta(seconds=5)


@dataclass(frozen=True)
class Hold:
    """Why a claimed row is not sent now: skipped for good, or moved to ``until``."""

    reason: str
    until: datetime.datetime | None = None


def send_time_check(message: Message, now: datetime.datetime) -> Hold | None:
    """Re-decide at send time what was decided at write time: things change in between."""
    preference = preference_of(message.recipient)
    if not preference.allows(message.channel):
        return Hold("Канал отключён в настройках получателя")
    if message.kind in REMINDER_KINDS:
        appointment = message.appointment
        if appointment is None or appointment.status != Appointment.Status.BOOKED:
            return Hold("Запись отменена")
        if not preference.reminders_enabled:
            return Hold("Напоминания отключены получателем")
        send_at, reason = timing.reminder_send_at(now, appointment.starts_at)
        if send_at is None:
            return Hold(reason or "Приём уже скоро: напоминать поздно")
        if send_at > now:
            return Hold("Тихие часы", until=send_at)
    if message.kind == Kind.COMING_OF_AGE and timing.is_quiet(now):
        return Hold("Тихие часы", until=timing.quiet_end_after(now))
    return None


def messages_claim(ids: list[int], now: datetime.datetime) -> list[Message]:
    """Take the queued, due rows among ``ids`` that no other worker holds."""
    return _claim(Message.objects.filter(pk__in=ids), now)


def messages_claim_polled(channels: list[str], now: datetime.datetime) -> list[Message]:
    """Take up to TASK_CHUNK due rows of ``channels`` that no task was asked for (a
    worker polling the outbox, `polling.outbox_poll`) and no other worker holds."""
    rows = Message.objects.filter(channel__in=channels, enqueued_for__isnull=True)
    return _claim(rows.order_by("next_attempt_at"), now, limit=TASK_CHUNK)


@transaction.atomic
def _claim(
    candidates: QuerySet[Message], now: datetime.datetime, limit: int | None = None
) -> list[Message]:
    # Lock first with a plain query (cheap to plan), then read what the send needs.
    locked_rows = (
        candidates.select_for_update(skip_locked=True)
        .filter(status=Status.QUEUED, next_attempt_at__lte=now)
        .values_list("pk", flat=True)
    )
    locked = list(locked_rows[:limit] if limit is not None else locked_rows)
    if not locked:
        return []
    rows = list(
        Message.objects.filter(pk__in=locked)
        .select_related(
            "recipient__notification_preference",
            "appointment__patient",
            "appointment__slot__doctor__clinic",
            "appointment__slot__doctor__specialty",
        )
        # In the order things happened: a booking's confirmation, written by a worker a
        # moment later, still goes before its cancellation.
        .order_by("next_attempt_at", "pk")
    )
    taken = []
    for message in rows:
        hold = send_time_check(message, now)
        if hold is None:
            taken.append(message)
        elif hold.until is None:
            Message.objects.filter(pk=message.pk).update(status=Status.SKIPPED, error=hold.reason)
        else:
            Message.objects.filter(pk=message.pk).update(
                next_attempt_at=hold.until, enqueued_for=None, error=hold.reason
            )
    lease = now + datetime.timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS)
    Message.objects.filter(pk__in=[m.pk for m in taken], status=Status.QUEUED).update(
        status=Status.SENDING, attempts=F("attempts") + 1, lease_until=lease
    )
    for message in taken:
        message.attempts += 1
    return taken


def acknowledge(message: Message, gateway_ids: list[str]) -> None:
    """Record the gateway's acceptance: from here on the row is never sent again."""
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(
            status=Status.SENT,
            gateway_id=gateway_ids[0][:200],
            sent_at=timezone.now(),
            lease_until=None,
            error="",
        )
        if message.channel == Channel.SMS:
            parts_record(message.pk, gateway_ids)


def _retry_or_fail(message: Message, exc: channels.DeliveryDeferred) -> None:
    now = timezone.now()
    if message.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        _fail(message, f"{exc} (попыток: {message.attempts})")
        return
    delay = THROTTLE_DELAY if exc.throttled else timing.retry_delay(message.attempts)
    retry_at = now + delay
    changed = Message.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.QUEUED,
        next_attempt_at=retry_at,
        enqueued_for=retry_at,
        lease_until=None,
        error=str(exc)[:2000],
    )
    if changed:
        enqueue_delivery([(message.pk, message.channel)], run_after=retry_at)


def _fail(message: Message, reason: str) -> None:
    logger.warning("message %s failed: %s", message.pk, reason)
    Message.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.FAILED, lease_until=None, error=reason[:2000]
    )


def message_send(message: Message) -> list[str]:
    if message.channel == Channel.EMAIL:
        return [channels.email_send(message)]
    return channels.sms_send(message)


def message_deliver(message: Message) -> bool:
    """Send one claimed row; True when a gateway accepted it."""
    try:
        gateway_ids = message_send(message)
    except channels.DeliveryRefused as exc:
        _fail(message, str(exc))
        return False
    except channels.DeliveryDeferred as exc:
        _retry_or_fail(message, exc)
        return False
    except Exception as exc:
        # An unknown error must not stop the batch: count it as a failed attempt.
        logger.exception("message %s: unexpected error", message.pk)
        _retry_or_fail(message, channels.DeliveryDeferred(f"{type(exc).__name__}: {exc}"))
        return False
    acknowledge(message, gateway_ids)
    return True


def messages_deliver(ids: list[int], now: datetime.datetime | None = None) -> int:
    """Deliver the due messages among ``ids``; one failing never holds up the others."""
    claimed = messages_claim(ids, now or timezone.now())
    return sum(message_deliver(message) for message in claimed)


# --- the task queue (Django's Tasks API, database backend) -----------------------------
# A task carries message ids only; the outbox rows are the truth. Running a task twice,
# or for a row another worker holds, does nothing (see `messages_claim`).


@task()
def deliver_messages(message_ids: list[int]) -> int:
    return messages_deliver(message_ids)


Queued = tuple[int, str]  # (message id, channel): the channel decides the queue


def queue_of(channel: str) -> str:
    return EMAIL_QUEUE if channel == Channel.EMAIL else "default"


def _by_queue(rows: list[Queued]) -> dict[str, list[int]]:
    queues: dict[str, list[int]] = {}
    for pk, channel in rows:
        queues.setdefault(queue_of(channel), []).append(pk)
    return queues


def enqueue_delivery(rows: list[Queued], run_after: datetime.datetime | None = None) -> None:
    """Ask the task queue to deliver ``rows``; a failure here loses nothing (the sweep)."""
    for queue, ids in _by_queue(rows).items():
        task = deliver_messages.using(queue_name=queue, run_after=run_after)
        for start in range(0, len(ids), TASK_CHUNK):
            chunk = ids[start : start + TASK_CHUNK]
            try:
                task.enqueue(chunk)
            except Exception:
                logger.warning("enqueue of messages %s failed; the sweep will retry", chunk)


def workers_poll_outbox() -> bool:
    """True when the task queue is a table of the portal's own database (django-tasks-db):
    its workers (`manage.py tasks_worker`) poll the outbox when their queues are empty."""
    from django_tasks import task_backends
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(task_backends["default"], DatabaseBackend)


def enqueue_unless_polled(rows: list[Queued]) -> None:
    """Ask for delivery of rows just written in the caller's transaction, due now.

    With the database backend nothing is asked: its workers poll the outbox when their
    queues are empty (`polling.outbox_poll`), so an event's transaction writes its messages and no
    task row (issue 25: a task row per queue cost a booking more than its messages). Any
    other backend has no such worker: it is asked after the commit (never for rows that
    roll back), and a lost enqueue is found by the sweep.
    """
    if not rows or workers_poll_outbox():
        return
    transaction.on_commit(lambda: enqueue_delivery(rows))
