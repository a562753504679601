"""Reminders, written when they fall due (issue 25), not with the booking.

A booking writes only its confirmation; each confirmation row (one per recipient and
channel) carries when the appointment's next reminder falls due (`Message.reminder_due_at`,
from `timing.reminder_times`). The sweep (`manage.py notifications_sweep`) calls
`reminders_write` every round: it takes the confirmations whose reminder is due, writes the
reminder to the same recipient, channel and address, and moves the mark on to the next
reminder (or clears it). The sweep's next step enqueues the new rows like any due row; the
worker's send-time check (`delivery.send_time_check`) decides as before.

Never twice: the confirmations are taken with ``FOR UPDATE SKIP LOCKED`` and their mark
moves on in the same transaction, so two sweeps never take the same one; and a reminder's
dedupe key (kind, appointment, recipient, channel) is unique, so even a twin that got past
that would write nothing (`tests/notifications/test_reminders_postgres.py`).
"""

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from portal.notifications import texts, timing
from portal.notifications.models import Kind, Message
from portal.notifications.services import message_new
from portal.scheduling.models import Appointment

BATCH = 500  # confirmations per transaction: the evening's reminders come all at once


def reminders_write(now: datetime.datetime | None = None, batch: int = BATCH) -> int:
    """Write the reminders due by ``now``; returns how many rows were written."""
    now = now or timezone.now()
    written = 0
    while True:
        rows, taken = _batch_write(now, batch)
        written += rows
        if taken < batch:
            return written


@transaction.atomic
def _batch_write(now: datetime.datetime, batch: int) -> tuple[int, int]:
    """One batch: (reminder rows written, confirmations taken)."""
    taken = confirmations_take(now, batch)
    if not taken:
        return 0, 0
    confirmations = Message.objects.filter(pk__in=taken).select_related(
        "recipient",
        "appointment__patient",
        "appointment__slot__doctor__clinic",
        "appointment__slot__doctor__specialty",
    )
    rows: list[Message] = []
    next_due: dict[datetime.datetime | None, list[int]] = {}
    for confirmation in confirmations:
        due, later = _due(confirmation, now)
        rows += [_reminder(confirmation, kind, at) for kind, at in due]
        next_due.setdefault(later, []).append(confirmation.pk)
    # The unique dedupe key turns away a reminder written before (never twice).
    Message.objects.bulk_create(rows, ignore_conflicts=True)
    for at, pks in next_due.items():
        Message.objects.filter(pk__in=pks).update(reminder_due_at=at)
    return len(rows), len(taken)


def confirmations_take(now: datetime.datetime, batch: int) -> list[int]:
    """Lock up to ``batch`` confirmations whose reminder is due: a twin sweep skips them
    and takes others (a plain query, cheap to plan; what the texts need is read after)."""
    return list(
        Message.objects.select_for_update(skip_locked=True)
        .filter(reminder_due_at__lte=now)
        .order_by("reminder_due_at", "pk")
        .values_list("pk", flat=True)[:batch]
    )


def _due(
    confirmation: Message, now: datetime.datetime
) -> tuple[list[tuple[Kind, datetime.datetime]], datetime.datetime | None]:
    """The reminders of this confirmation due by ``now``, and when the next one is due.

    None for an appointment no longer booked (cancelled, moved, attended: its reminders
    are never written) or one that has begun."""
    appointment = confirmation.appointment
    first = confirmation.reminder_due_at
    if (
        appointment is None
        or first is None
        or appointment.status != Appointment.Status.BOOKED
        or appointment.starts_at <= now
    ):
        return [], None
    return timing.reminders_due(appointment.starts_at, first, now)


def _reminder(confirmation: Message, kind: Kind, at: datetime.datetime) -> Message:
    """The reminder to the confirmation's recipient, by its channel, to the address the
    booking was confirmed to; due at ``at`` (the sweep enqueues it in the same round)."""
    appointment = confirmation.appointment
    assert appointment is not None  # `_due` wrote no reminder for a message without one
    recipient = confirmation.recipient
    return message_new(
        kind=kind,
        patient=appointment.patient,
        recipient=recipient,
        channel=confirmation.channel,
        address=confirmation.address,
        content=texts.appointment_content(kind, appointment, recipient),
        at=at,
        appointment=appointment,
        key=f"{kind}:{appointment.pk}:{recipient.pk}:{confirmation.channel}",
    )


def reminders_planned(confirmations: Iterable[Message]) -> list[Message]:
    """The reminders these confirmations are still to lead to, as the rows the sweep will
    write (unsaved), latest first: what «Уведомления» and the development page show as
    planned (`selectors.confirmations_with_reminders` reads the confirmations)."""
    planned = []
    for confirmation in confirmations:
        appointment, first = confirmation.appointment, confirmation.reminder_due_at
        if appointment is None or first is None:
            continue
        planned += [
            _reminder(confirmation, kind, at)
            for kind, at in timing.reminder_plan(appointment.starts_at)
            if at >= first
        ]
    return sorted(planned, key=lambda row: row.next_attempt_at, reverse=True)
