"""Writes of the outbox.

The ``appointment_*_notify`` functions are called by the booking service *inside* its
transaction: the rows commit or roll back with it. No task is asked for them with the
database backend (the task workers poll the outbox, `polling`); another backend is asked
on commit. A booking itself writes one `Event` (`polling.booked_event_new`);
its messages are written by a worker with `_appointment_rows`, like the rows here.
Reminders are written when they fall due (`reminders`). Delivery itself is
`portal.notifications.delivery`.
"""

import datetime
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, connections, models, router
from django.db.models import Field
from django.utils import timezone

from portal.notifications import texts, timing
from portal.notifications.delivery import enqueue_delivery, enqueue_unless_polled
from portal.notifications.models import (
    REMINDER_KINDS,
    Kind,
    Message,
    Preference,
    Status,
)
from portal.notifications.selectors import (
    addresses_of,
    preference_known,
    preference_of,
    recipients_for,
)
from portal.patients.models import Guardianship, Patient
from portal.scheduling.models import Appointment, Slot

logger = logging.getLogger(__name__)
Row = TypeVar("Row", bound=models.Model)


def sms_configured() -> bool:
    return bool(settings.SMPP_HOST)


def message_new(
    *,
    kind: str,
    patient: Patient,
    recipient: Patient,
    channel: str,
    address: str,
    content: texts.Content,
    at: datetime.datetime,
    appointment: Appointment | None,
    key: str,
    reminder_due_at: datetime.datetime | None = None,
) -> Message:
    """One outbox row (unsaved), due at ``at``."""
    return Message(
        patient=patient,
        recipient=recipient,
        appointment=appointment,
        channel=channel,
        kind=kind,
        address=address,
        # A subject never starts with a space or a stray line break (issue 27).
        subject=" ".join(content.subject.split())[:200],
        text=texts.sms_fit(content.sms) if channel == "sms" else content.text,
        next_attempt_at=at,
        # No task is asked for it: a worker polling the outbox takes it when due
        # (`polling.outbox_poll`), and the sweep enqueues one a worker never took.
        enqueued_for=None,
        dedupe_key=key,
        reminder_due_at=reminder_due_at,
    )


def _appointment_rows(
    kind: str,
    appointment: Appointment,
    now: datetime.datetime,
    reason: str = "",
    told: Callable[[Patient], texts.Content] | None = None,
    at: datetime.datetime | None = None,
) -> list[Message]:
    """The event's message now, or due at ``at``, with ``told``
    writing its content when the standard one does not fit. For a time the patient now
    holds, the message also carries when its first reminder falls due: the reminders'
    rows are written then (`reminders.reminders_write`), not in this transaction."""
    rows = []
    patient = appointment.patient
    for recipient in recipients_for(patient, appointment.booked_by_id):
        preference = preference_known(recipient)
        pairs = addresses_of(recipient, preference, sms_configured())
        if not pairs:
            continue
        reminder_due_at = None
        if kind in (Kind.BOOKED, Kind.MOVED) and preference.reminders_enabled:
            planned = timing.reminder_times(appointment.starts_at, now)
            reminder_due_at = planned[0][1] if planned else None
        rows += _per_channel(
            pairs,
            kind=kind,
            patient=patient,
            recipient=recipient,
            content=(
                told(recipient)
                if told is not None
                else texts.appointment_content(kind, appointment, recipient, reason)
            ),
            at=at or now,
            appointment=appointment,
            key=f"{kind}:{appointment.pk}:{recipient.pk}",
            reminder_due_at=reminder_due_at,
        )
    return rows


def _rows_now(
    *,
    kind: str,
    patient: Patient,
    booked_by_id: int | None,
    content_for: Callable[[Patient], texts.Content],
    appointment: Appointment | None,
    key: str,
) -> list[Message]:
    """One message per channel for everyone who hears of ``patient``'s bookings (the
    patient, or every verified guardian and the one who booked), due now."""
    now = timezone.now()
    rows: list[Message] = []
    for recipient in recipients_for(patient, booked_by_id):
        rows += _per_channel(
            addresses_of(recipient, preference_known(recipient), sms_configured()),
            kind=kind,
            patient=patient,
            recipient=recipient,
            content=content_for(recipient),
            at=now,
            appointment=appointment,
            key=f"{key}:{recipient.pk}",
        )
    return rows


def _per_channel(
    pairs: list[tuple[str, str]],
    *,
    kind: str,
    patient: Patient,
    recipient: Patient,
    content: texts.Content,
    at: datetime.datetime,
    appointment: Appointment | None,
    key: str,
    reminder_due_at: datetime.datetime | None = None,
) -> list[Message]:
    """The same content to each of the recipient's (channel, address) pairs; the dedupe
    key ends with the channel."""
    return [
        message_new(
            kind=kind,
            patient=patient,
            recipient=recipient,
            channel=channel,
            address=address,
            content=content,
            at=at,
            appointment=appointment,
            key=f"{key}:{channel}",
            reminder_due_at=reminder_due_at,
        )
        for channel, address in pairs
    ]


def _write(rows: list[Message]) -> list[Message]:
    """Write an event's rows in the caller's transaction; no task row is asked for them
    (the workers poll the outbox, `polling.outbox_poll`)."""
    created = rows_insert(Message, rows)
    now = timezone.now()
    enqueue_unless_polled([(m.pk, m.channel) for m in created if m.next_attempt_at <= now])
    return created


@functools.cache
def _insert_fields(model: type[models.Model]) -> list[Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


@functools.cache
def _insert_sql(model: type[models.Model], alias: str, count: int) -> str:
    quote = connections[alias].ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in _insert_fields(model))
    one_row = "(" + ", ".join(["%s"] * len(_insert_fields(model))) + ")"
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "
        f"VALUES {', '.join([one_row] * count)} RETURNING {quote(str(model._meta.pk.column))}"
    )


def rows_insert(model: type[Row], rows: list[Row]) -> list[Row]:
    """``bulk_create(rows)``'s one INSERT … RETURNING id, built from the model's own fields
    without its per-object machinery, which cost more CPU than the statement itself in a
    booking (issue 25, docs/performance.md). Each value is still the field's own
    (``pre_save`` fills ``auto_now_add``, ``get_db_prep_save`` adapts it)."""
    connection = connections[router.db_for_write(model)]
    if not rows or not connection.features.can_return_rows_from_bulk_insert:
        return model._default_manager.bulk_create(rows)
    params: list[Any] = []
    for row in rows:
        params += [
            f.get_db_prep_save(f.pre_save(row, True), connection) for f in _insert_fields(model)
        ]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(model, connection.alias, len(rows)), params)
        ids = [pk for (pk,) in cursor.fetchall()]
    for row, pk in zip(rows, ids, strict=True):
        row.pk = pk
        row._state.adding = False
        row._state.db = connection.alias
    return rows


def appointments_booked_notify(appointments: list[Appointment]) -> list[Message]:
    """The booking's confirmation rows for several bookings of one transaction (a fair-release
    draw's winners), written in one statement: the same rows, each booking's own."""
    now = timezone.now()
    return _write([row for a in appointments for row in _appointment_rows(Kind.BOOKED, a, now)])


def _reminders_withdraw(appointment: Appointment) -> int:
    """Pending reminders of a cancelled appointment are never sent (re-checked at send time too)."""
    return Message.objects.filter(
        appointment=appointment, kind__in=REMINDER_KINDS, status=Status.QUEUED
    ).update(status=Status.SKIPPED, error="Запись отменена", lease_until=None)


def appointment_cancelled_notify(appointment: Appointment) -> list[Message]:
    """The patient cancelled: tell everyone who was told of the booking; no reminders."""
    appointment = _with_details(appointment)
    _reminders_withdraw(appointment)
    return _write(_appointment_rows(Kind.CANCELLED, appointment, timezone.now()))


# A clinic's cancellation waits this long before it is sent: the rebook offer made on the
# cancel's commit (docs/waitlist.md) takes its place, one message with the reason and the
# held time; with no offer, the sweep sends it as it is.
CLINIC_CANCEL_WAIT = datetime.timedelta(seconds=60)


def appointment_cancelled_by_clinic_notify(appointment: Appointment, reason: str) -> list[Message]:
    """The clinic cancelled (an absence, a schedule change): say so, and why."""
    appointment = _with_details(appointment)
    _reminders_withdraw(appointment)
    now = timezone.now()
    rows = _appointment_rows(
        Kind.CANCELLED_BY_CLINIC, appointment, now, reason, at=now + CLINIC_CANCEL_WAIT
    )
    return _write(rows)


def _cancellation_merged(cancelled: Appointment) -> int:
    """The clinic's cancellation not sent yet is told with the offer instead (one message)."""
    return Message.objects.filter(
        appointment=cancelled, kind=Kind.CANCELLED_BY_CLINIC, status=Status.QUEUED
    ).update(status=Status.SKIPPED, error="Сообщено вместе с предложением времени")


def appointment_moved_notify(old: Appointment, new: Appointment) -> list[Message]:
    """One move, one message «Запись перенесена с … на …» (not a cancel and a booking):
    the old time's reminders stop, the new time's are planned.

    Call inside the move's transaction (expects the patient lock of docs/concurrency.md).
    """
    old = _with_details(old)
    new = _with_details(new)
    _reminders_withdraw(old)
    rows = _appointment_rows(
        Kind.MOVED,
        new,
        timezone.now(),
        told=lambda recipient: texts.moved_content(old, new, recipient),
    )
    return _write(rows)


def _with_details(appointment: Appointment) -> Appointment:
    """The appointment with what the texts name, in one query (cancel paths load it bare)."""
    return Appointment.objects.select_related(
        "patient", "slot__doctor__clinic", "slot__doctor__specialty"
    ).get(pk=appointment.pk)


# --- offers of a held time (docs/waitlist.md) ---------------------------------------


def offer_made_notify(
    *,
    offer_id: int,
    kind: str,
    patient: Patient,
    slot: Slot,
    expires_at: datetime.datetime,
    booked_by_id: int | None,
    cancelled: Appointment | None = None,
) -> list[Message]:
    """A time is held for ``patient`` until ``expires_at``: tell everyone who would hear
    of their bookings (the patient, or every verified guardian and ``booked_by_id``).

    Called inside the offer's transaction. Never in the quiet hours' spirit of delay:
    an offer is answered within its hold, so it goes out at once like a cancellation.
    """
    slot = Slot.objects.select_related("doctor__clinic", "doctor__specialty").get(pk=slot.pk)
    if cancelled is not None:
        cancelled = _with_details(cancelled)
        _cancellation_merged(cancelled)
    return _write(
        _rows_now(
            kind=kind,
            patient=patient,
            booked_by_id=booked_by_id,
            content_for=lambda recipient: texts.offer_content(
                kind,
                patient,
                recipient,
                slot,
                expires_at,
                offer_id=offer_id,
                cancelled=cancelled,
            ),
            appointment=cancelled,
            key=f"offer:{offer_id}",
        )
    )


def ballot_lost_notify(
    *,
    patient: Patient,
    made_by_id: int,
    request_id: int,
    clinic: str,
    day: str,
    waitlisted: bool,
    none_fit: bool = False,
) -> list[Message]:
    """A fair-release draw gave ``patient`` no time: tell whoever hears of their bookings.

    Call inside the draw's transaction that records the result (docs/fair-release.md).
    """
    return _write(
        _ballot_lost_rows(
            BallotLost(patient, made_by_id, request_id, clinic, day, waitlisted, none_fit)
        )
    )


@dataclass(frozen=True)
class BallotLost:
    """One loser of a draw, as `ballot_lost_notify` takes it."""

    patient: Patient
    made_by_id: int
    request_id: int
    clinic: str
    day: str
    waitlisted: bool
    none_fit: bool = False


def _ballot_lost_rows(lost: BallotLost) -> list[Message]:
    return _rows_now(
        kind=Kind.BALLOT_LOST,
        patient=lost.patient,
        booked_by_id=lost.made_by_id,
        content_for=lambda recipient: texts.ballot_lost_content(
            lost.patient, recipient, lost.clinic, lost.day, lost.waitlisted, none_fit=lost.none_fit
        ),
        appointment=None,
        key=f"{Kind.BALLOT_LOST}:{lost.request_id}",
    )


def ballots_lost_notify(losers: list[BallotLost]) -> list[Message]:
    """`ballot_lost_notify` for every loser of a draw, written in one statement."""
    return _write([row for lost in losers for row in _ballot_lost_rows(lost)])


def patient_event_notify(
    *,
    kind: str,
    patient: Patient,
    made_by_id: int | None,
    content_for: Callable[[Patient], texts.Content],
    key: str,
) -> list[Message]:
    """An event about ``patient`` that is not an appointment (a home visit's state,
    docs/home-visits.md): one message per channel, due now, to whoever hears of their
    bookings. The caller writes the words and calls inside its own transaction."""
    return _write(
        _rows_now(
            kind=kind,
            patient=patient,
            booked_by_id=made_by_id,
            content_for=content_for,
            appointment=None,
            key=key,
        )
    )


# --- children who come of age -------------------------------------------------------


def coming_of_age_notify(today: datetime.date | None = None) -> int:
    """Tell the guardians, once, that a child turns CHILD_MAX_AGE within the next days.

    Idempotent (the dedupe key names the child, the guardian and the birthday year), so
    the sweep may run it as often as it likes. Returns the number of messages written.
    """
    today = today or timezone.localdate()
    age = settings.CHILD_MAX_AGE
    days = settings.NOTIFICATIONS_COMING_OF_AGE_DAYS
    earliest, latest = (
        _years_before(today, age),
        _years_before(today + datetime.timedelta(days=days), age),
    )
    ships = Guardianship.objects.filter(
        ended_at__isnull=True,
        child__birth_date__gt=earliest,
        child__birth_date__lte=latest,
    ).select_related("child", "guardian__notification_preference")
    now = timezone.now()
    at = timing.quiet_end_after(now)
    rows = []
    for ship in ships:
        child, guardian = ship.child, ship.guardian
        year = child.birth_date.year + age
        pairs = addresses_of(guardian, preference_of(guardian), sms_configured())
        rows += _per_channel(
            pairs,
            kind=Kind.COMING_OF_AGE,
            patient=child,
            recipient=guardian,
            content=texts.coming_of_age_content(child, guardian, age),
            at=at,
            appointment=None,
            key=f"{Kind.COMING_OF_AGE}:{child.pk}:{guardian.pk}:{year}",
        )
    rows += _coming_of_age_own_rows({ship.child for ship in ships}, age, at)
    known = set(
        Message.objects.filter(dedupe_key__in=[m.dedupe_key for m in rows]).values_list(
            "dedupe_key", flat=True
        )
    )
    fresh = [m for m in rows if m.dedupe_key not in known]
    Message.objects.bulk_create(fresh, ignore_conflicts=True)  # a twin sweep lost the race
    return len(fresh)


def _coming_of_age_own_rows(
    children: set[Patient], age: int, at: datetime.datetime
) -> list[Message]:
    """The child who has an account of their own is told too (issue 27)."""
    rows = []
    for child in children:
        if child.user_id is None:
            continue
        rows += _per_channel(
            addresses_of(child, preference_of(child), sms_configured()),
            kind=Kind.COMING_OF_AGE,
            patient=child,
            recipient=child,
            content=texts.coming_of_age_own_content(child, age),
            at=at,
            appointment=None,
            key=f"{Kind.COMING_OF_AGE}:{child.pk}:{child.pk}:{child.birth_date.year + age}",
        )
    return rows


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# --- the operator ---------------------------------------------------------------


def messages_retry(ids: list[int]) -> int:
    """The operator's «retry now» for failed messages (the admin action)."""
    now = timezone.now()
    changed = list(
        Message.objects.filter(pk__in=ids, status=Status.FAILED).values_list("pk", "channel")
    )
    Message.objects.filter(pk__in=[pk for pk, _channel in changed]).update(
        status=Status.QUEUED, attempts=0, next_attempt_at=now, enqueued_for=now, error=""
    )
    enqueue_delivery(changed)
    return len(changed)


# --- preferences --------------------------------------------------------------------


def preference_save(
    *, patient: Patient, email_enabled: bool, sms_enabled: bool, reminders_enabled: bool
) -> Preference:
    preference, _created = Preference.objects.update_or_create(
        patient=patient,
        defaults={
            "email_enabled": email_enabled,
            "sms_enabled": sms_enabled,
            "reminders_enabled": reminders_enabled,
        },
    )
    return preference


def messages_seen(patient: Patient, now: datetime.datetime | None = None) -> None:
    """The recipient opened «Уведомления»: nothing up to now is new any more.

    A page that only reads must still open while the primary does not answer
    (docs/operations.md, degraded mode): then the marker waits for the next visit.
    """
    try:
        Preference.objects.update_or_create(
            patient=patient, defaults={"seen_until": now or timezone.now()}
        )
    except DatabaseError:
        logger.warning("notifications seen marker not saved", exc_info=True)
