"""A booking's one row, and the task workers polling the outbox (issue 25).

A booking writes one `Event` in its transaction (`booked_event_new`), not a
message per recipient and channel and no task row: those cost a booking more than a
third of its time. A task worker whose queues are empty (`core.tasks_idle`) first turns
the waiting events into messages (`events_fan_out`: the confirmation to everyone who
should hear, each carrying when its first reminder falls due, `reminders`), then
delivers the due messages no task was asked for, of the channels its queues carry
(`outbox_poll`). The sweep fans out as well: the safety net where no polling worker runs.

Never twice: events and messages are taken with ``FOR UPDATE SKIP LOCKED`` and an event
is deleted in the transaction that writes its messages; a message's dedupe key is unique.
"""

import datetime
from functools import partial

from django.db import transaction
from django.utils import timezone

from portal.core.tasks_idle import serves_queue
from portal.notifications.delivery import (
    TASK_CHUNK,
    enqueue_delivery,
    message_deliver,
    messages_claim_polled,
    queue_of,
    workers_poll_outbox,
)
from portal.notifications.models import Channel, Event, Kind, Message, Status
from portal.notifications.selectors import addresses_of, preference_known
from portal.notifications.services import _appointment_rows, rows_insert, sms_configured
from portal.patients.models import Patient
from portal.scheduling.models import Appointment


def booked_event_new(patient: Patient) -> Event | None:
    """The one `Event` that tells of a booking, not yet written: the booking writes it
    with its appointment, in the claim's statement on PostgreSQL (`events.appointment_booking`,
    docs/notifications.md), so it commits or rolls back with the booking; a worker writes
    the confirmation and plans the reminders a moment later. None for a patient with an
    account and no address to be told at (a child's guardians are looked up by the
    worker, not here).
    """
    if patient.user_id is not None and not addresses_of(
        patient, preference_known(patient), sms_configured()
    ):
        return None
    return Event(kind=Kind.BOOKED, created_at=timezone.now())


def booked_event_written(events: list[Event]) -> None:
    """After the booking's write, inside its transaction: without a polling worker the
    request itself fans its event out once the booking commits."""
    if events and not workers_poll_outbox():
        for event in events:
            # robust: the booking has committed; a failure here is logged, the sweep covers it.
            transaction.on_commit(partial(_fan_out_and_enqueue, event.pk), robust=True)


def appointments_booked_events(appointments: list[Appointment]) -> list[Event]:
    """The events of several bookings of one transaction (a fair-release draw's winners),
    written in one statement: each booking's own `booked_event_new`, its messages written
    by a worker as any booking's are."""
    events = []
    for appointment in appointments:
        event = booked_event_new(appointment.patient)
        if event is not None:
            event.appointment = appointment
            events.append(event)
    if events:
        rows_insert(Event, events)
    booked_event_written(events)
    return events


def events_fan_out(limit: int = TASK_CHUNK, ids: list[int] | None = None) -> int:
    """Write the messages of up to ``limit`` waiting events (of ``ids`` only, if given)
    and delete the events, in one transaction; returns how many events were taken."""
    return len(_fan_out(limit, ids))


@transaction.atomic
def _fan_out(limit: int, ids: list[int] | None) -> list[Message]:
    taken = events_take(limit, ids)
    if not taken:
        return []
    appointments = Appointment.objects.select_related(
        "patient__notification_preference",
        "slot__doctor__clinic",
        "slot__doctor__specialty",
    ).in_bulk([appointment_id for _pk, _kind, appointment_id, _at in taken])
    rows: list[Message] = []
    for _pk, kind, appointment_id, at in taken:
        appointment = appointments.get(appointment_id)
        if appointment is not None:  # deleted since: nothing left to tell
            rows += _messages_of(kind, appointment, at)
    # The unique dedupe key turns away what exists already (never twice).
    Message.objects.bulk_create(rows, ignore_conflicts=True)
    Event.objects.filter(pk__in=[pk for pk, _kind, _appointment_id, _at in taken]).delete()
    # A row never written (the lock kept a twin worker away) is harmless: the rest is told.
    return rows


def events_take(
    limit: int, ids: list[int] | None = None
) -> list[tuple[int, str, int, datetime.datetime]]:
    """Lock up to ``limit`` waiting events (a twin worker skips them and takes others):
    (id, kind, appointment id, when it happened)."""
    events = Event.objects.select_for_update(skip_locked=True).order_by("pk")
    if ids is not None:
        events = events.filter(pk__in=ids)
    return list(events.values_list("pk", "kind", "appointment_id", "created_at")[:limit])


def _messages_of(kind: str, appointment: Appointment, at: datetime.datetime) -> list[Message]:
    """The event's messages, as they would have been written at ``at``: due then (so
    they go out before anything that happened later, a cancellation included), with the
    reminders planned from then."""
    return _appointment_rows(kind, appointment, at)


def _fan_out_and_enqueue(event_id: int) -> None:
    """A task backend outside the database has no polling worker: the booking's request
    fans its event out after the commit and asks the queue (the sweep covers a miss)."""
    rows = _fan_out(1, [event_id])
    due = Message.objects.filter(
        dedupe_key__in=[m.dedupe_key for m in rows],
        status=Status.QUEUED,
        next_attempt_at__lte=timezone.now(),
    ).values_list("pk", "channel")
    enqueue_delivery(list(due))


def outbox_poll(queue_names: list[str], excluded: list[str]) -> int:
    """A task worker with nothing in its queues looks at the outbox itself: it fans out
    the waiting events, then delivers the due messages nobody asked a task for (a
    confirmation, a reminder just written), of the channels whose queue it serves
    (registered with `core.tasks_idle` in `apps`). Returns how much it did: a worker that
    did something looks again at once."""
    channels = [c for c in Channel.values if serves_queue(queue_of(c), queue_names, excluded)]
    if not channels:
        return 0
    fanned_out = events_fan_out()
    claimed = messages_claim_polled(channels, timezone.now())
    for message in claimed:
        message_deliver(message)
    return fanned_out + len(claimed)
