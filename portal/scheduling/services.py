"""The booking service: the only writer of Slot.status and Appointment.status besides slot
generation (docs/concurrency.md lists every writer; read it first).

Entry points (`appointment_book`, `appointment_reschedule`, `appointment_cancel`,
`appointment_cancel_by_clinic`)
open the one durable transaction themselves and turn lock timeouts and constraint
violations into `BookingRefused`, so a caller never sees a database exception.
"""

import datetime
import logging
import secrets
import sqlite3
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from portal.audit.models import AuditAction
from portal.audit.services import audit_record
from portal.core.dbrouter import primary_reads
from portal.directory.models import Doctor
from portal.identity.models import User
from portal.notifications.services import (
    appointment_booked_notify,
    appointment_cancelled_by_clinic_notify,
    appointment_cancelled_notify,
)
from portal.patients.models import Patient
from portal.scheduling import rules, selectors
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Absence, Appointment, ScheduleRule, Slot
from portal.scheduling.schedule_changes import PROBLEMS as SCHEDULE_PROBLEMS
from portal.scheduling.schedule_changes import (
    ScheduleDiff,
    rule_problems,
    rules_overlap,
    schedule_diff,
)
from portal.scheduling.slot_generation import _insert_slots, slots_block_absence
from portal.staff.permissions import staff_may_manage_clinic

logger = logging.getLogger(__name__)
_Result = TypeVar("_Result")

TICKET_ALPHABET = "0123456789АВЕКМНРСТХ"  # letters that look alike in Cyrillic and Latin
PG_LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout expired
SQLITE_LOCK_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


@dataclass(frozen=True)
class BookingResult:
    appointment: Appointment
    created: bool  # False when the idempotency key replayed an earlier booking


# --- locks ---------------------------------------------------------------------------


def _require_transaction() -> None:
    """Row locks outside a transaction are released at once: refuse to pretend."""
    if not connection.in_atomic_block:
        raise TransactionManagementError("booking locks must be taken inside the transaction")


def _set_lock_timeout() -> None:
    """Time-box every row lock of this transaction (PostgreSQL; SQLite has its busy timeout)."""
    _require_transaction()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('lock_timeout', %s, true)",
                [f"{settings.SCHEDULING_LOCK_TIMEOUT_MS}ms"],
            )


def _is_lock_timeout(exc: OperationalError) -> bool:
    """A lock wait that ran out: PostgreSQL's lock_not_available, SQLite's busy/locked.

    Decided by the driver's error code, never by the message text.
    """
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) == PG_LOCK_NOT_AVAILABLE:
        return True
    code = getattr(cause, "sqlite_errorcode", None)
    # Extended codes (SQLITE_BUSY_SNAPSHOT, …) keep the primary code in the low byte.
    return isinstance(code, int) and code & 0xFF in SQLITE_LOCK_CODES


@contextmanager
def _busy_on_lock_timeout() -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        if _is_lock_timeout(exc):
            raise BookingRefused("busy") from exc
        raise


def _lock_patient(patient_id: int) -> Patient:
    """Lock 1 of 2: the patient row serialises one patient's bookings and cancellations,
    which makes the per-patient rules (one per specialty, no overlap) race-free."""
    _require_transaction()
    return (
        Patient.objects.select_for_update(of=("self",)).select_related("clinic").get(pk=patient_id)
    )


def _lock_slot(slot_id: int) -> Slot:
    """Lock 2 of 2: the slot row. Raises slot_taken for an unknown slot (nothing to reveal)."""
    _require_transaction()
    slot = (
        Slot.objects.select_for_update(of=("self",))
        .select_related("doctor__clinic", "doctor__specialty")
        .filter(pk=slot_id)
        .first()
    )
    if slot is None:
        raise BookingRefused("slot_taken")
    return slot


# --- booking -------------------------------------------------------------------------


def _replay(actor: User, key: uuid.UUID) -> BookingResult | None:
    """The booking an earlier request with this form key made, if any (a double click)."""
    earlier = Appointment.objects.filter(booked_by=actor, idempotency_key=key).first()
    return BookingResult(earlier, created=False) if earlier is not None else None


def _check(patient: Patient, actor_id: int, slot: Slot, now: datetime.datetime) -> None:
    """Decide again, under both locks, with the one function the pages ask
    (`rules.slot_booking_refusal`): the slot's state, the place, the patient's appointments.

    The per-patient rules (one per specialty, no overlap) read other rows: without the
    patient lock two requests could both pass here and both write.
    """
    active = selectors.appointments_list_active(patient, now)
    if code := rules.slot_booking_refusal(patient, actor_id, slot, active=active, now=now):
        raise BookingRefused(code)


def _claim_slot(slot: Slot) -> None:
    """Conditional UPDATE: only a free slot becomes booked; the row count says if it did."""
    claimed = Slot.objects.filter(pk=slot.pk, status=Slot.Status.FREE).update(
        status=Slot.Status.BOOKED, held_for=None, held_until=None
    )
    if claimed != 1:
        raise BookingRefused("slot_taken")


def _ticket_number() -> str:
    return "".join(secrets.choice(TICKET_ALPHABET) for _ in range(10))


def _after_booking(appointment_id: int, ticket: str) -> None:
    # The notifications outbox (a later issue) hooks in here; never before the commit.
    logger.info("appointment %s booked, ticket %s", appointment_id, ticket)


def _appointment_create(actor: User, patient: Patient, slot: Slot, key: uuid.UUID) -> Appointment:
    """The appointment row for a slot just claimed (expects both locks)."""
    return Appointment.objects.create(
        slot=slot,
        patient=patient,
        booked_by=actor,
        specialty_id=slot.doctor.specialty_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        ticket_number=_ticket_number(),
        idempotency_key=key,
    )


@transaction.atomic(durable=True)
def _book(
    *,
    actor: User,
    patient_id: int,
    slot_id: int,
    key: uuid.UUID,
    ip: str | None,
    device: str | None,
    from_draw: bool = False,
) -> BookingResult:
    _set_lock_timeout()
    patient = _lock_patient(patient_id)
    slot = _lock_slot(slot_id)
    # Everything read before the locks is advisory; decide again now.
    now = timezone.now()
    try:
        if from_draw:
            # Only a slot still kept for the draw: the reservation then counts as this
            # patient's hold (in memory; the claim below clears it), every other rule applies.
            if not rules.is_draw_reservation(slot, now):
                raise BookingRefused("slot_taken")
            slot.held_for_id = patient.pk
        _check(patient, actor.pk, slot, now)
    except BookingRefused:
        # A double click whose first request won finds its slot taken (or its specialty
        # booked) here, under the patient lock: give it the first booking. Asked only on
        # a refusal, so a booking that goes through costs no extra read; a repeated key
        # that would pass the check still meets the unique (booked_by, key) at INSERT
        # and is replayed by `_claiming` (docs/concurrency.md).
        if (replay := _replay(actor, key)) is not None:
            return replay
        raise
    _claim_slot(slot)
    appointment = _appointment_create(actor, patient, slot, key)
    audit_record(
        AuditAction.APPOINTMENT_BOOKED,
        actor=actor,
        ip=ip,
        patient=patient,
        appointment=appointment.pk,
        ticket=appointment.ticket_number,
        doctor=slot.doctor_id,
        starts_at=slot.starts_at.isoformat(),
        **({"device": device} if device else {}),
    )
    appointment_booked_notify(appointment)
    transaction.on_commit(partial(_after_booking, appointment.pk, appointment.ticket_number))
    return BookingResult(appointment, created=True)


def appointment_book(
    *,
    actor: User,
    patient: Patient,
    slot_id: int,
    idempotency_key: uuid.UUID,
    ip: str | None = None,
    device: str | None = None,
) -> BookingResult:
    """Book ``slot_id`` for ``patient`` (whom the caller has checked ``actor`` may act for).

    Raises BookingRefused with a code of errors.ERRORS; never a database error.
    """
    return _claiming(
        actor,
        slot_id,
        idempotency_key,
        partial(
            _book,
            actor=actor,
            patient_id=patient.pk,
            slot_id=slot_id,
            key=idempotency_key,
            ip=ip,
            device=device,
        ),
    )


def appointment_book_from_draw(
    *,
    actor: User,
    patient: Patient,
    slot_id: int,
    idempotency_key: uuid.UUID,
) -> BookingResult:
    """Book a slot kept for a fair-release draw (`slots_reserve_for_draw`) for the patient
    the draw gave it to, with every rule of `appointment_book` under the same locks.

    A refusal rolls back and leaves the slot kept for the draw, so the draw can give it to
    the next request. ``actor`` is whoever made the request; the key is derived from the
    draw and the request, so running the draw again replays instead of booking twice.
    """
    return _claiming(
        actor,
        slot_id,
        idempotency_key,
        partial(
            _book,
            actor=actor,
            patient_id=patient.pk,
            slot_id=slot_id,
            key=idempotency_key,
            ip=None,
            device=None,
            from_draw=True,
        ),
    )


def _claiming(
    actor: User, slot_id: int, key: uuid.UUID, write: Callable[[], BookingResult]
) -> BookingResult:
    """What every claim of a slot (a booking, a move) does around its transaction: the
    lock-free refusal of a taken slot, "busy" on a lock timeout, and the constraints'
    verdict turned into a replay or a refusal, never a database error.

    Every read here is from the primary, even the lock-free one: a replica a moment
    behind would refuse a slot just freed (docs/operations.md, «Several app servers»).
    """
    with primary_reads():
        early = _answer_for_taken_slot(actor=actor, slot_id=slot_id, idempotency_key=key)
        if early is not None:
            return early
        try:
            with _busy_on_lock_timeout():
                return write()
        except IntegrityError as exc:
            # The constraints caught what the locks should have: a twin request with the
            # same key won (replay it), or the slot was taken.
            if (replay := _replay(actor, key)) is not None:
                return replay
            raise BookingRefused("slot_taken") from exc


def _answer_for_taken_slot(
    *, actor: User, slot_id: int, idempotency_key: uuid.UUID
) -> BookingResult | None:
    """At 07:00 most POSTs are for slots already gone: answer those without locks.

    A lock-free read is enough to refuse: a booked slot only frees up by a cancellation,
    and a click a moment later would be refused too. It is never enough to *grant* a
    slot; that happens only under the locks in `_book`. A double click whose first
    request won must still get its appointment back, not "taken". Writes nothing.
    """
    if not Slot.objects.filter(pk=slot_id, status=Slot.Status.BOOKED).exists():
        return None
    if (replay := _replay(actor, idempotency_key)) is not None:
        return replay
    raise BookingRefused("slot_taken")


# --- rescheduling --------------------------------------------------------------------


def _lock_slots(*slot_ids: int) -> dict[int, Slot]:
    """Lock 2 for a writer that needs two slots: in id order, so two such writers never
    wait on each other in a cycle (a booking or a cancel locks one slot only)."""
    return {slot_id: _lock_slot(slot_id) for slot_id in sorted(slot_ids)}


def _check_move(
    patient: Patient, actor_id: int, current: Appointment, slot: Slot, now: datetime.datetime
) -> None:
    """Decide again, under the locks, with the function the reschedule page asks."""
    active = selectors.appointments_list_active(patient, now)
    refusal = rules.reschedule_refusal(patient, actor_id, current, slot, active=active, now=now)
    if refusal:
        raise BookingRefused(refusal)


def _end_moved(current: Appointment, now: datetime.datetime) -> None:
    """Conditional UPDATE: only an active appointment is moved, and only once."""
    ended = Appointment.objects.filter(pk=current.pk, status=Appointment.Status.BOOKED).update(
        status=Appointment.Status.CANCELLED_PATIENT, cancelled_at=now
    )
    if ended != 1:
        raise BookingRefused("reschedule_not_active")
    Slot.objects.filter(pk=current.slot_id, status=Slot.Status.BOOKED).update(
        status=Slot.Status.FREE
    )


@transaction.atomic(durable=True)
def _reschedule(
    *,
    actor: User,
    appointment_id: int,
    slot_id: int,
    key: uuid.UUID,
    ip: str | None,
    device: str | None,
) -> BookingResult:
    _set_lock_timeout()
    # Read without a lock only to learn whom to lock; decided again under the locks.
    patient_id = Appointment.objects.values_list("patient_id", flat=True).get(pk=appointment_id)
    patient = _lock_patient(patient_id)
    if (replay := _replay(actor, key)) is not None:
        return replay
    # Under the patient lock nothing else changes this patient's appointments.
    current = Appointment.objects.get(pk=appointment_id)
    slots = _lock_slots(current.slot_id, slot_id)
    slot = slots[slot_id]
    now = timezone.now()
    _check_move(patient, actor.pk, current, slot, now)
    _end_moved(current, now)
    _claim_slot(slot)
    moved = _appointment_create(actor, patient, slot, key)
    extra = {"device": device} if device else {}
    audit_record(
        AuditAction.APPOINTMENT_CANCELLED,
        actor=actor,
        ip=ip,
        patient=patient,
        appointment=current.pk,
        ticket=current.ticket_number,
        rescheduled_to=moved.pk,
        **extra,
    )
    audit_record(
        AuditAction.APPOINTMENT_BOOKED,
        actor=actor,
        ip=ip,
        patient=patient,
        appointment=moved.pk,
        ticket=moved.ticket_number,
        doctor=slot.doctor_id,
        starts_at=slot.starts_at.isoformat(),
        rescheduled_from=current.pk,
        **extra,
    )
    # The patient hears of both halves, in this transaction: the old time is cancelled (its
    # reminders stop) and the new one booked (with its ticket and reminders).
    appointment_cancelled_notify(current)
    appointment_booked_notify(moved)
    transaction.on_commit(partial(_after_cancel, current.pk, "patient"))
    transaction.on_commit(partial(_after_booking, moved.pk, moved.ticket_number))
    transaction.on_commit(
        partial(_offers_after_cancel, current, freed=True, by_clinic=False), robust=True
    )
    return BookingResult(moved, created=True)


def appointment_reschedule(
    *,
    actor: User,
    appointment: Appointment,
    new_slot_id: int,
    idempotency_key: uuid.UUID,
    ip: str | None = None,
    device: str | None = None,
) -> BookingResult:
    """Move ``appointment`` (fetched with `appointment_get_for_user`) to ``new_slot_id``:
    the new slot booked and the old one freed in one transaction, with the booking's locks,
    checks and replay. If the new time cannot be had, the original stays as it was.

    Raises BookingRefused with a code of errors.ERRORS; never a database error.
    """
    if new_slot_id == appointment.slot_id:
        raise BookingRefused("reschedule_same_slot")
    return _claiming(
        actor,
        new_slot_id,
        idempotency_key,
        partial(
            _reschedule,
            actor=actor,
            appointment_id=appointment.pk,
            slot_id=new_slot_id,
            key=idempotency_key,
            ip=ip,
            device=device,
        ),
    )


# --- cancellation --------------------------------------------------------------------


@dataclass(frozen=True)
class _Cancellation:
    """Who cancels, and what that means: the patient's and the clinic's differ only here."""

    status: str  # the appointment's new status
    too_late: str  # the refusal code once the appointment has started
    slot_to: str  # the slot's new status: free again, or blocked
    action: AuditAction
    by: str  # for the log
    notify: Callable[[Appointment], object]  # writes the outbox rows, in this transaction
    reason: str = ""
    check_actor: Callable[[User, Appointment], None] | None = None


def _lock_for_cancel(appointment_id: int) -> tuple[Appointment, Patient]:
    """The booking's lock order for an existing appointment: its patient, then its slot.

    Its status is not trusted here: the conditional UPDATE under the locks decides.
    """
    current = Appointment.objects.select_related("slot__doctor").get(pk=appointment_id)
    patient = _lock_patient(current.patient_id)
    _lock_slot(current.slot_id)
    return current, patient


def _after_cancel(appointment_id: int, by: str) -> None:
    # Where the notifications outbox tells the patient; never before the commit.
    logger.info("appointment %s cancelled by the %s", appointment_id, by)


def _offers_after_cancel(appointment: Appointment, *, freed: bool, by_clinic: bool) -> None:
    """After the commit of a cancel or a move (docs/waitlist.md): a clinic's cancel
    offers the patient another time, and a freed slot goes to the waitlist.

    Registered with ``robust=True``: the cancel is committed whatever happens here.
    """
    # Imported here: the waitlist calls this module, so a module-level import is a cycle.
    from portal.waitlist import services as waitlist

    if by_clinic:
        waitlist.rebook_offer_make(appointment=appointment)
    if freed:
        waitlist.slot_freed(appointment.slot_id)


@transaction.atomic(durable=True)
def _cancel(
    *, actor: User, appointment_id: int, how: _Cancellation, ip: str | None, **details: object
) -> Appointment:
    _set_lock_timeout()
    current, patient = _lock_for_cancel(appointment_id)
    return _cancel_locked(actor=actor, current=current, patient=patient, how=how, ip=ip, **details)


def _cancel_locked(
    *,
    actor: User,
    current: Appointment,
    patient: Patient,
    how: _Cancellation,
    ip: str | None,
    **details: object,
) -> Appointment:
    """The cancellation itself. Expects the patient and slot locks of ``current``."""
    if how.check_actor is not None:
        how.check_actor(actor, current)
    now = timezone.now()
    if current.starts_at <= now:
        raise BookingRefused(how.too_late)
    # Conditional UPDATE: only an active appointment ends, and only once.
    ended = Appointment.objects.filter(pk=current.pk, status=Appointment.Status.BOOKED).update(
        status=how.status, cancelled_at=now, cancel_reason=how.reason
    )
    if ended != 1:
        raise BookingRefused("cancel_not_active")
    Slot.objects.filter(pk=current.slot_id, status=Slot.Status.BOOKED).update(status=how.slot_to)
    audit_record(
        how.action,
        actor=actor,
        ip=ip,
        patient=patient,
        appointment=current.pk,
        ticket=current.ticket_number,
        **details,
    )
    how.notify(current)
    transaction.on_commit(partial(_after_cancel, current.pk, how.by))
    transaction.on_commit(
        partial(
            _offers_after_cancel,
            current,
            freed=how.slot_to == Slot.Status.FREE,
            by_clinic=how.status == Appointment.Status.CANCELLED_CLINIC,
        ),
        robust=True,
    )
    current.refresh_from_db()
    return current


def appointment_cancel(
    *, actor: User, appointment: Appointment, ip: str | None = None, device: str | None = None
) -> Appointment:
    """Cancel an appointment the caller fetched with `appointment_get_for_user`.

    The slot is free again at once: another patient may take the time right away.
    """
    how = _Cancellation(
        status=Appointment.Status.CANCELLED_PATIENT,
        too_late="cancel_too_late",
        slot_to=Slot.Status.FREE,
        action=AuditAction.APPOINTMENT_CANCELLED,
        by="patient",
        notify=appointment_cancelled_notify,
    )
    with _busy_on_lock_timeout():
        details = {"device": device} if device else {}
        return _cancel(actor=actor, appointment_id=appointment.pk, how=how, ip=ip, **details)


def _check_clinic_actor(actor: User, appointment: Appointment) -> None:
    """Staff change only the clinics of their scope (`workspace.permissions`: a clerk's
    or head's own clinic, every clinic for the regional operator); a superuser any."""
    if actor.is_superuser:
        return
    if not staff_may_manage_clinic(actor, appointment.slot.doctor.clinic_id):
        raise BookingRefused("clinic_cancel_foreign")


def appointment_cancel_by_clinic(
    *,
    actor: User,
    appointment: Appointment,
    reason: str,
    free_slot: bool = True,
    ip: str | None = None,
) -> Appointment:
    """The clinic cancels an appointment, saying why (the patient reads it on the ticket).

    ``free_slot=False`` when the doctor will not receive at that time (an absence): the
    slot is blocked instead of offered to the next patient. Same locks and refusals as
    the patient's cancellation; staff of another clinic are refused.
    """
    reason = reason.strip()
    if not reason:
        raise BookingRefused("clinic_cancel_no_reason")
    how = _Cancellation(
        status=Appointment.Status.CANCELLED_CLINIC,
        too_late="clinic_cancel_past",
        slot_to=Slot.Status.FREE if free_slot else Slot.Status.BLOCKED,
        action=AuditAction.APPOINTMENT_CANCELLED_BY_CLINIC,
        by="clinic",
        notify=lambda current: appointment_cancelled_by_clinic_notify(current, reason),
        reason=reason,
        check_actor=_check_clinic_actor,
    )
    with _busy_on_lock_timeout():
        return _cancel(
            actor=actor,
            appointment_id=appointment.pk,
            how=how,
            ip=ip,
            reason=reason,
            slot_freed=free_slot,
        )


# --- attendance (the clinic workspace, docs/workspace.md) -----------------------------
# Marking attended / no-show writes Appointment.status, so it lives here with the other
# writers of booking state and takes the same locks in the same order
# (docs/concurrency.md): the patient row, then the slot row. The slot stays booked: the
# time was used (or wasted) either way.

ATTENDANCE_MARKABLE = (
    Appointment.Status.BOOKED,
    Appointment.Status.ATTENDED,
    Appointment.Status.NO_SHOW,
)


@transaction.atomic(durable=True)
def _mark_attendance(
    *, actor: User, appointment_id: int, attended: bool, ip: str | None
) -> Appointment:
    _set_lock_timeout()
    current = Appointment.objects.get(pk=appointment_id)
    patient = _lock_patient(current.patient_id)
    _lock_slot(current.slot_id)
    if current.starts_at > timezone.now():
        raise BookingRefused("attendance_too_early")
    new_status = Appointment.Status.ATTENDED if attended else Appointment.Status.NO_SHOW
    # A correction (attended <-> no-show) is allowed; a cancelled appointment stays so.
    changed = Appointment.objects.filter(pk=current.pk, status__in=ATTENDANCE_MARKABLE).update(
        status=new_status
    )
    if changed != 1:
        raise BookingRefused("attendance_not_active")
    audit_record(
        AuditAction.APPOINTMENT_ATTENDED if attended else AuditAction.APPOINTMENT_NO_SHOW,
        actor=actor,
        ip=ip,
        patient=patient,
        appointment=current.pk,
        ticket=current.ticket_number,
    )
    current.refresh_from_db()
    return current


def appointment_mark_attendance(
    *, actor: User, appointment: Appointment, attended: bool, ip: str | None = None
) -> Appointment:
    """Mark an appointment attended or no-show once it has started.

    The caller has checked that ``actor`` may manage the appointment's clinic
    (`workspace.permissions.appointment_get_for_staff`).
    """
    with _busy_on_lock_timeout():
        return _mark_attendance(
            actor=actor, appointment_id=appointment.pk, attended=attended, ip=ip
        )


# --- absences (the clinic workspace, docs/workspace.md) ---------------------------------
# A doctor's absence cancels every booked appointment in its dates and blocks the free
# slots in ONE durable transaction: it completes whole or leaves no trace. Lock order as
# everywhere (docs/concurrency.md): first the patients of the booked appointments
# (sorted by id), then the doctor's slots of the dates (sorted by time). A patient who
# booked between the two steps is locked late, out of order; if that collides with a
# booking, PostgreSQL's deadlock detector or the lock timeout aborts the absence and it
# is retried from the start (ABSENCE_ATTEMPTS times), never left half-done.

ABSENCE_ATTEMPTS = 3


@dataclass(frozen=True)
class AbsenceResult:
    absence: Absence
    cancelled: list[Appointment]
    blocked: int  # free slots that are now blocked


def _absence_bounds(
    starts_on: datetime.date, ends_on: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    tz = ZoneInfo(settings.TIME_ZONE)
    since = datetime.datetime.combine(starts_on, datetime.time.min, tzinfo=tz)
    until = datetime.datetime.combine(
        ends_on + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    return since, until


def _booked_in(
    doctor_id: int, since: datetime.datetime, until: datetime.datetime
) -> "models.QuerySet[Appointment]":
    return Appointment.objects.filter(
        slot__doctor_id=doctor_id,
        starts_at__gte=max(since, timezone.now()),
        starts_at__lt=until,
        status=Appointment.Status.BOOKED,
    )


@transaction.atomic(durable=True)
def _record_absence(
    *,
    actor: User,
    doctor_id: int,
    kind: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    reason: str,
    ip: str | None,
) -> AbsenceResult:
    _set_lock_timeout()
    since, until = _absence_bounds(starts_on, ends_on)
    patients: dict[int, Patient] = {}

    def lock_patients_of_booked() -> None:
        wanted = sorted(
            set(_booked_in(doctor_id, since, until).values_list("patient_id", flat=True))
        )
        for patient_id in wanted:
            if patient_id not in patients:
                patients[patient_id] = _lock_patient(patient_id)

    lock_patients_of_booked()
    # Lock 2: every slot of the dates, so no booking or cancellation changes them now.
    list(
        Slot.objects.select_for_update(of=("self",))
        .filter(doctor_id=doctor_id, starts_at__gte=since, starts_at__lt=until)
        .order_by("starts_at")
        .values_list("pk", flat=True)
    )
    lock_patients_of_booked()  # whoever booked between the two steps
    blocked = slots_block_absence(doctor_id, starts_on, ends_on, ZoneInfo(settings.TIME_ZONE))
    absence = Absence.objects.create(
        doctor_id=doctor_id, kind=kind, starts_on=starts_on, ends_on=ends_on
    )
    how = _Cancellation(
        status=Appointment.Status.CANCELLED_CLINIC,
        too_late="clinic_cancel_past",
        slot_to=Slot.Status.BLOCKED,
        action=AuditAction.APPOINTMENT_CANCELLED_BY_CLINIC,
        by="clinic",
        notify=lambda current: appointment_cancelled_by_clinic_notify(current, reason),
        reason=reason,
        check_actor=_check_clinic_actor,
    )
    cancelled = [
        _cancel_locked(
            actor=actor,
            current=current,
            patient=patients[current.patient_id],
            how=how,
            ip=ip,
            reason=reason,
            slot_freed=False,
            absence=absence.pk,
        )
        for current in _booked_in(doctor_id, since, until).select_related("slot__doctor")
    ]
    return AbsenceResult(absence=absence, cancelled=cancelled, blocked=blocked)


def _is_deadlock(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) == "40P01"


def absence_record(
    *,
    actor: User,
    doctor: Doctor,
    kind: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    reason: str,
    ip: str | None = None,
) -> AbsenceResult:
    """Record a doctor's absence: block its free slots and cancel, by the clinic with
    ``reason``, every appointment booked in it; each patient is told after the commit.

    The caller fetched ``doctor`` inside ``actor``'s scope; the clinic check runs again
    for every appointment under the locks. Refusals: `clinic_cancel_no_reason`,
    `clinic_cancel_foreign`, `busy` (still locked out after the retries).
    """
    reason = _clinic_reason(actor, doctor, reason)
    return _retried_whole(
        partial(
            _record_absence,
            actor=actor,
            doctor_id=doctor.pk,
            kind=kind,
            starts_on=starts_on,
            ends_on=ends_on,
            reason=reason,
            ip=ip,
        ),
        attempts=ABSENCE_ATTEMPTS,
        what=f"absence of doctor {doctor.pk}",
    )


def _clinic_reason(actor: User, doctor: Doctor, reason: str) -> str:
    """What every clinic-wide writer (an absence, a schedule publish) asks first: a reason
    the patients will read, and a clinic the actor may manage."""
    reason = reason.strip()
    if not reason:
        raise BookingRefused("clinic_cancel_no_reason")
    if not actor.is_superuser and not staff_may_manage_clinic(actor, doctor.clinic_id):
        raise BookingRefused("clinic_cancel_foreign")
    return reason


def _retried_whole(write: Callable[[], _Result], *, attempts: int, what: str) -> _Result:
    """Run a durable clinic-wide transaction again from the start after a deadlock or a
    lock timeout (it rolled back whole); ``busy`` once ``attempts`` are used up."""
    for attempt in range(attempts):
        try:
            return write()
        except OperationalError as exc:
            if not (_is_lock_timeout(exc) or _is_deadlock(exc)):
                raise
            if attempt == attempts - 1:
                raise BookingRefused("busy") from exc
            logger.info("%s retried after %s", what, exc)
    raise AssertionError("unreachable")


# --- holds: a free slot kept for one patient (docs/concurrency.md) ----------------------


@transaction.atomic
def slot_hold(*, slot_id: int, patient_id: int, until: datetime.datetime) -> bool:
    """Hold a free, open slot for ``patient_id`` until ``until``; False if it is taken,
    blocked, past or already held for someone else (the caller offers another one).

    Under the slot lock, so a hold and a booking of the same slot cannot both win.
    """
    _set_lock_timeout()
    with _busy_on_lock_timeout():
        slot = _lock_slot(slot_id)
    now = timezone.now()
    if rules.slot_refusal(slot, now) or rules.is_held_for_other(slot, patient_id, now):
        return False
    Slot.objects.filter(pk=slot.pk).update(held_for_id=patient_id, held_until=until)
    return True


def slot_hold_release(*, slot_id: int, patient_id: int) -> bool:
    """End ``patient_id``'s hold of a slot (declined, expired, or taken elsewhere);
    someone else's hold is left alone. True if a hold was released."""
    released = Slot.objects.filter(pk=slot_id, held_for_id=patient_id).update(
        held_for=None, held_until=None
    )
    return released == 1


# --- schedule changes (the clinic workspace, docs/workspace.md «Schedules») --------------
# Publishing a weekly rule rewrites one doctor's future slots in ONE durable transaction
# (it completes whole or leaves no trace). Lock order (docs/concurrency.md): the doctor's
# schedule rules (two publishes for one doctor queue here; bookings never take them), the
# patients whose appointments the change cancels (sorted by id), then the doctor's future
# slots (sorted by time). The diff is computed again under the slot locks; a patient who
# booked a removed slot in between is locked late with NOWAIT, so the publish, never the
# patient, backs off: it rolls back and starts again (SCHEDULE_ATTEMPTS), then `busy`.

SCHEDULE_ATTEMPTS = 3


@dataclass(frozen=True)
class RuleDraft:
    """A weekly rule's values as the clerk typed them (plain values, no model)."""

    weekdays: str
    start_time: datetime.time
    end_time: datetime.time
    break_start: datetime.time | None
    break_end: datetime.time | None
    slot_minutes: int
    days_ahead: int
    opens_at: datetime.time
    valid_from: datetime.date | None
    valid_until: datetime.date | None

    @classmethod
    def of(cls, rule: ScheduleRule, **changes: object) -> "RuleDraft":
        values = {name: getattr(rule, name) for name in cls.__dataclass_fields__}
        return cls(**{**values, **changes})


@dataclass(frozen=True)
class SchedulePublished:
    rule: ScheduleRule
    diff: ScheduleDiff
    cancelled: list[Appointment]


def schedule_rules_after(
    current: list[ScheduleRule], rule_id: int | None, draft: RuleDraft
) -> list[RuleDraft]:
    """The doctor's whole set of rules once ``draft`` replaces ``rule_id`` (or is added)."""
    others = [RuleDraft.of(rule) for rule in current if rule.pk != rule_id]
    return [*others, draft]


def schedule_draft_problems(
    current: list[ScheduleRule], rule_id: int | None, draft: RuleDraft, today: datetime.date
) -> dict[str, str]:
    """Every reason not to publish ``draft``: its own fields, then an overlap with
    another rule of the doctor. The form shows these; `schedule_publish` refuses."""
    problems = rule_problems(draft, today)
    others = [RuleDraft.of(rule) for rule in current if rule.pk != rule_id]
    if not problems and rules_overlap(draft, others):
        problems["weekdays"] = str(SCHEDULE_PROBLEMS["overlap"])
    return problems


def schedule_preview(
    *, doctor_id: int, rule_id: int | None, draft: RuleDraft, now: datetime.datetime | None = None
) -> ScheduleDiff:
    """What publishing ``draft`` would do now (read-only; the same diff the publish makes)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    current = selectors.schedule_rules_list(doctor_id)
    existing, absences = selectors.schedule_inputs(doctor_id, now, today)
    return schedule_diff(
        doctor_id=doctor_id,
        rules=schedule_rules_after(current, rule_id, draft),
        existing=existing,
        absences=absences,
        today=today,
        now=now,
    )


def _clinic_cancellation(reason: str) -> _Cancellation:
    """The clinic's cancel of a time the doctor no longer works: exactly the absence's
    (`_record_absence`): cancelled by the clinic with the reason, the slot blocked."""
    return _Cancellation(
        status=Appointment.Status.CANCELLED_CLINIC,
        too_late="clinic_cancel_past",
        slot_to=Slot.Status.BLOCKED,
        action=AuditAction.APPOINTMENT_CANCELLED_BY_CLINIC,
        by="clinic",
        notify=lambda current: appointment_cancelled_by_clinic_notify(current, reason),
        reason=reason,
        check_actor=_check_clinic_actor,
    )


def _lock_patients_nowait(patient_ids: Collection[int], into: dict[int, Patient]) -> None:
    """Patients found only under the slot locks (out of the usual order): never wait for
    them, so a booking in flight is not deadlocked; the publish is retried instead."""
    wanted = sorted(set(patient_ids) - into.keys())
    if not wanted:
        return
    locked = Patient.objects.select_for_update(of=("self",), nowait=True).filter(pk__in=wanted)
    into.update({patient.pk: patient for patient in locked.order_by("pk")})


@transaction.atomic(durable=True)
def _publish_schedule(
    *,
    actor: User,
    doctor_id: int,
    rule_id: int | None,
    draft: RuleDraft,
    reason: str,
    expected: Collection[int] | None,
    ip: str | None,
) -> SchedulePublished:
    _set_lock_timeout()
    # Lock 0: the doctor's rules, so two publishes for one doctor run one after the other.
    current = list(
        ScheduleRule.objects.select_for_update(of=("self",))
        .filter(doctor_id=doctor_id)
        .order_by("pk")
    )
    if rule_id is not None and rule_id not in {rule.pk for rule in current}:
        raise BookingRefused("schedule_rule_unknown")
    today = timezone.localdate()
    if schedule_draft_problems(current, rule_id, draft, today):
        raise BookingRefused("schedule_invalid")
    rules_after = schedule_rules_after(current, rule_id, draft)

    def diff_now() -> ScheduleDiff:
        now = timezone.now()
        existing, absences = selectors.schedule_inputs(doctor_id, now, today)
        return schedule_diff(
            doctor_id=doctor_id,
            rules=rules_after,
            existing=existing,
            absences=absences,
            today=today,
            now=now,
        )

    def patients_on(slot_ids: list[int]) -> list[int]:
        return list(
            Appointment.objects.filter(
                slot_id__in=slot_ids, status=Appointment.Status.BOOKED
            ).values_list("patient_id", flat=True)
        )

    patients: dict[int, Patient] = {}
    # Lock 1: the patients the change will cancel, as far as a lock-free look tells.
    for patient_id in sorted(set(patients_on(diff_now().cancel))):
        patients[patient_id] = _lock_patient(patient_id)
    # Lock 2: every future slot of the doctor; from now on nobody books or cancels them.
    list(
        Slot.objects.select_for_update(of=("self",))
        .filter(doctor_id=doctor_id, starts_at__gt=timezone.now())
        .order_by("starts_at")
        .values_list("pk", flat=True)
    )
    diff = diff_now()  # decided again under the locks
    to_cancel = list(
        Appointment.objects.filter(slot_id__in=diff.cancel, status=Appointment.Status.BOOKED)
        .select_related("slot__doctor")
        .order_by("starts_at")
    )
    if expected is not None and {a.pk for a in to_cancel} - set(expected):
        # Someone booked a time the clerk saw as free: show the change again, never
        # cancel an appointment that was not on the confirmed list.
        raise BookingRefused("schedule_stale")
    _lock_patients_nowait([a.patient_id for a in to_cancel], patients)

    if rule_id is None:
        rule = ScheduleRule(doctor_id=doctor_id)
    else:
        rule = next(rule for rule in current if rule.pk == rule_id)
    for name in RuleDraft.__dataclass_fields__:
        setattr(rule, name, getattr(draft, name))
    rule.save()

    blocked = Slot.objects.filter(pk__in=diff.block, status=Slot.Status.FREE).update(
        status=Slot.Status.BLOCKED
    )
    for retimed in diff.retime:
        # Never a booked row (the diff reuses free and blocked ones only).
        Slot.objects.filter(pk=retimed.pk).exclude(status=Slot.Status.BOOKED).update(
            ends_at=retimed.ends_at, status=retimed.status, opens_at=retimed.opens_at
        )
    how = _clinic_cancellation(reason)
    cancelled = [
        _cancel_locked(
            actor=actor,
            current=current_appointment,
            patient=patients[current_appointment.patient_id],
            how=how,
            ip=ip,
            reason=reason,
            slot_freed=False,
            schedule_rule=rule.pk,
        )
        for current_appointment in to_cancel
    ]
    if diff.create:
        _insert_slots(diff.create)
    reused = [r.pk for r in diff.retime if r.status == Slot.Status.FREE]
    starts = [row[1] for row in diff.create if row[3] == Slot.Status.FREE]
    transaction.on_commit(partial(_offer_new_times, doctor_id, reused, starts), robust=True)
    audit_record(
        AuditAction.DIRECTORY_CHANGED,
        actor=actor,
        ip=ip,
        model="schedulerule",
        object=rule.pk,
        created=rule_id is None,
        doctor=doctor_id,
        slots_created=len(diff.create),
        slots_changed=len(diff.retime),
        slots_blocked=blocked,
        appointments_cancelled=[a.pk for a in cancelled],
    )
    return SchedulePublished(rule=rule, diff=diff, cancelled=cancelled)


def _offer_new_times(doctor_id: int, slot_ids: list[int], starts: list[datetime.datetime]) -> None:
    """After a publish commits: the times it opened go to the waitlist first
    (docs/waitlist.md). The inserted rows' ids are found by their unique (doctor, start)."""
    from portal.waitlist import services as waitlist  # a module-level import is a cycle

    inserted = Slot.objects.filter(doctor_id=doctor_id, starts_at__in=starts)
    waitlist.slots_freed([*slot_ids, *inserted.values_list("pk", flat=True)])


def schedule_publish(
    *,
    actor: User,
    doctor: Doctor,
    rule_id: int | None,
    draft: RuleDraft,
    reason: str,
    expected_cancelled: Collection[int] | None = None,
    ip: str | None = None,
) -> SchedulePublished:
    """Publish a new or changed weekly rule of ``doctor`` (fetched inside ``actor``'s
    scope): the rule saved, new slots created, free slots outside the new hours blocked,
    and every appointment on a time no longer worked cancelled by the clinic with
    ``reason`` as an absence cancels it (patient and guardians told after the commit).

    ``expected_cancelled``: the appointment ids the clerk saw in the preview; one more
    found under the locks refuses with `schedule_stale`. Other refusals:
    `schedule_invalid`, `schedule_rule_unknown`, `clinic_cancel_no_reason`,
    `clinic_cancel_foreign`, `busy` (still locked out after the retries).
    """
    reason = _clinic_reason(actor, doctor, reason)
    return _retried_whole(
        partial(
            _publish_schedule,
            actor=actor,
            doctor_id=doctor.pk,
            rule_id=rule_id,
            draft=draft,
            reason=reason,
            expected=expected_cancelled,
            ip=ip,
        ),
        attempts=SCHEDULE_ATTEMPTS,
        what=f"schedule of doctor {doctor.pk}",
    )


# --- a fair-release draw's reservation: a hold for nobody (docs/fair-release.md) ---------


def slots_reserve_for_draw(*, slot_ids: list[int]) -> int:
    """Keep free slots for a draw until their own start: no search shows them and no one
    books them first-come (`rules.is_draw_reservation`); only `appointment_book_from_draw`
    takes them, and `slots_release_from_draw` lets the rest go. Returns how many are kept.

    One conditional UPDATE, no locks: a slot booked or held for a patient meanwhile is
    skipped (PostgreSQL re-checks the condition after a booking that holds the row commits).
    """
    now = timezone.now()
    return (
        Slot.objects.filter(pk__in=slot_ids, status=Slot.Status.FREE, starts_at__gt=now)
        .filter(models.Q(held_until__isnull=True) | models.Q(held_until__lte=now))
        .update(held_for=None, held_until=models.F("starts_at"))
    )


def slots_release_from_draw(*, slot_ids: list[int]) -> int:
    """End the draw's reservation of these slots (the draw is over, or cancelled): they are
    free for everyone at once. A patient's hold is never touched."""
    return Slot.objects.filter(
        pk__in=slot_ids, held_for__isnull=True, held_until__isnull=False
    ).update(held_until=None)
