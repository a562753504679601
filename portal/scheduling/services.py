"""Writes of the booking area. The locking policy is docs/concurrency.md; read it first.

Entry points (`appointment_book`, `appointment_cancel`) open the one durable
transaction themselves and turn lock timeouts and constraint violations into
`BookingRefused`, so a caller never sees a database exception.
"""

import datetime
import logging
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from itertools import islice
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from portal.audit.models import AuditAction
from portal.audit.services import audit_record
from portal.identity.models import User
from portal.patients.models import Patient
from portal.scheduling import rules
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Absence, Appointment, ScheduleRule, Slot

logger = logging.getLogger(__name__)

TICKET_ALPHABET = "0123456789АВЕКМНРСТХ"  # letters that look alike in Cyrillic and Latin
SLOT_BATCH = 5000


# --- slot generation ---------------------------------------------------------------


def slot_opening(day: datetime.date, rule: ScheduleRule, tz: datetime.tzinfo) -> datetime.datetime:
    """When a slot on ``day`` opens for online booking: days_ahead before, at opens_at local."""
    opening_day = day - datetime.timedelta(days=rule.days_ahead)
    return datetime.datetime.combine(opening_day, rule.opens_at, tzinfo=tz)


SlotRow = tuple[int, datetime.datetime, datetime.datetime, str, datetime.datetime]


def _slots_of_rule(
    rule: ScheduleRule,
    days: list[datetime.date],
    absences: list[tuple[datetime.date, datetime.date]],
    tz: datetime.tzinfo,
) -> Iterator[SlotRow]:
    length = datetime.timedelta(minutes=rule.slot_minutes)
    for day in days:
        if not rule.applies_on(day):
            continue
        blocked = any(start <= day <= end for start, end in absences)
        status = Slot.Status.BLOCKED.value if blocked else Slot.Status.FREE.value
        opens = slot_opening(day, rule, tz).astimezone(datetime.UTC)
        begin = datetime.datetime.combine(day, rule.start_time, tzinfo=tz).astimezone(datetime.UTC)
        end = datetime.datetime.combine(day, rule.end_time, tzinfo=tz).astimezone(datetime.UTC)
        pause = None
        if rule.break_start and rule.break_end:
            pause = (
                datetime.datetime.combine(day, rule.break_start, tzinfo=tz),
                datetime.datetime.combine(day, rule.break_end, tzinfo=tz),
            )
        start = begin
        while start + length <= end:
            if pause and start < pause[1] and start + length > pause[0]:
                start = pause[1].astimezone(datetime.UTC)
                continue
            yield (rule.doctor_id, start, start + length, status, opens)
            start += length


def _insert_slots(rows: list[SlotRow]) -> None:
    """Insert a batch of slots, skipping existing (doctor, start) pairs.

    Bypasses the ORM's per-object preparation, which dominated the demo's run time.
    PostgreSQL gets the whole batch as five arrays in one statement (one round trip);
    SQLite, in-process, takes executemany fastest.
    """
    table = connection.ops.quote_name(Slot._meta.db_table)
    conflict = "ON CONFLICT (doctor_id, starts_at) DO NOTHING"
    columns = "(doctor_id, starts_at, ends_at, status, opens_at)"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} {columns} SELECT * FROM unnest("
                "%s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::varchar[], "
                f"%s::timestamptz[]) {conflict}",
                [list(column) for column in zip(*rows, strict=True)],
            )
            return
        adapt = connection.ops.adapt_datetimefield_value
        cursor.executemany(
            f"INSERT INTO {table} {columns} VALUES (%s, %s, %s, %s, %s) {conflict}",
            [(d, adapt(s), adapt(e), st, adapt(o)) for d, s, e, st, o in rows],
        )


def slots_generate(
    *,
    start: datetime.date,
    days: int,
    doctor_ids: list[int] | None = None,
    log: Callable[[str], None] | None = None,
) -> int:
    """Create the slots of every schedule rule for ``days`` days from ``start``.

    Idempotent: existing (doctor, start) pairs are left alone by the unique
    constraint, so re-running only fills gaps. Russian public holidays get no
    slots; days covered by an absence get blocked slots, and already generated
    free slots in an absence are blocked too. Returns the number of candidate slots.
    """
    tz = ZoneInfo(settings.TIME_ZONE)
    day_list = [start + datetime.timedelta(days=n) for n in range(days)]
    public_holidays = holidays.country_holidays("RU", years={d.year for d in day_list})
    work_days = [d for d in day_list if d not in public_holidays]

    absence_rows = Absence.objects.filter(starts_on__lte=day_list[-1], ends_on__gte=start)
    rule_rows = ScheduleRule.objects.filter(doctor__is_active=True).order_by("doctor_id", "pk")
    if doctor_ids is not None:
        absence_rows = absence_rows.filter(doctor_id__in=doctor_ids)
        rule_rows = rule_rows.filter(doctor_id__in=doctor_ids)
    absences: dict[int, list[tuple[datetime.date, datetime.date]]] = {}
    for doctor_id, starts_on, ends_on in absence_rows.values_list(
        "doctor_id", "starts_on", "ends_on"
    ):
        absences.setdefault(doctor_id, []).append((starts_on, ends_on))

    def candidates() -> Iterator[SlotRow]:
        for rule in rule_rows.iterator(chunk_size=2000):
            yield from _slots_of_rule(rule, work_days, absences.get(rule.doctor_id, []), tz)

    total = 0
    stream = candidates()
    while batch := list(islice(stream, SLOT_BATCH)):
        # Each batch commits on its own: a region's million slots never sit in one transaction.
        with transaction.atomic():
            _insert_slots(batch)
        total += len(batch)
        if log and total % (SLOT_BATCH * 40) == 0:
            log(f"  … {total} слотов")
    for doctor_id, ranges in absences.items():
        for starts_on, ends_on in ranges:
            slots_block_absence(doctor_id, starts_on, ends_on, tz)
    return total


def slots_block_absence(
    doctor_id: int, starts_on: datetime.date, ends_on: datetime.date, tz: datetime.tzinfo
) -> int:
    """Block the doctor's free slots in the absence. Booked ones stay for the clinic to handle."""
    since = datetime.datetime.combine(starts_on, datetime.time.min, tzinfo=tz)
    until = datetime.datetime.combine(
        ends_on + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    return Slot.objects.filter(
        doctor_id=doctor_id, starts_at__gte=since, starts_at__lt=until, status=Slot.Status.FREE
    ).update(status=Slot.Status.BLOCKED)


# --- booking -------------------------------------------------------------------------


@dataclass(frozen=True)
class BookingResult:
    appointment: Appointment
    created: bool  # False when the idempotency key replayed an earlier booking


def _set_lock_timeout() -> None:
    """Time-box every row lock of this transaction (PostgreSQL; SQLite has its busy timeout)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('lock_timeout', %s, true)",
                [f"{settings.SCHEDULING_LOCK_TIMEOUT_MS}ms"],
            )


def _is_lock_timeout(exc: OperationalError) -> bool:
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate == "55P03" or "locked" in str(exc).lower()


def _lock_patient(patient_id: int) -> Patient:
    """Lock 1 of 2: the patient row serialises one patient's bookings and cancellations,
    which makes the per-patient rules (one per specialty, no overlap) race-free."""
    return (
        Patient.objects.select_for_update(of=("self",)).select_related("clinic").get(pk=patient_id)
    )


def _lock_slot(slot_id: int) -> Slot:
    """Lock 2 of 2: the slot row. Raises slot_taken for an unknown slot (nothing to reveal)."""
    slot = (
        Slot.objects.select_for_update(of=("self",))
        .select_related("doctor__clinic", "doctor__specialty")
        .filter(pk=slot_id)
        .first()
    )
    if slot is None:
        raise BookingRefused("slot_taken")
    return slot


def _check_slot(slot: Slot, now: datetime.datetime) -> None:
    """Expects the slot lock."""
    if code := rules.slot_refusal(slot, now):
        raise BookingRefused(code)


def _check_place(patient: Patient, user_id: int, slot: Slot) -> None:
    code = (
        rules.child_refusal(patient, user_id)
        or rules.clinic_refusal(patient, slot.doctor.clinic)
        or rules.specialty_refusal(patient, slot.doctor.specialty, slot.doctor.clinic)
    )
    if code:
        raise BookingRefused(code)


def _check_patient_rules(patient: Patient, slot: Slot, now: datetime.datetime) -> None:
    """Expects the patient lock: otherwise two requests could both pass and both write."""
    active = Appointment.objects.filter(patient=patient, status=Appointment.Status.BOOKED)
    if active.filter(specialty_id=slot.doctor.specialty_id, starts_at__gt=now).exists():
        raise BookingRefused("same_specialty")
    if active.filter(starts_at__lt=slot.ends_at, ends_at__gt=slot.starts_at).exists():
        raise BookingRefused("overlap")


def _claim_slot(slot: Slot) -> None:
    """Conditional UPDATE: only a free slot becomes booked; the row count says if it did."""
    claimed = Slot.objects.filter(pk=slot.pk, status=Slot.Status.FREE).update(
        status=Slot.Status.BOOKED
    )
    if claimed != 1:
        raise BookingRefused("slot_taken")


def _ticket_number() -> str:
    return "".join(secrets.choice(TICKET_ALPHABET) for _ in range(10))


def _after_booking(appointment_id: int, ticket: str) -> None:
    # The notifications outbox (a later issue) hooks in here; never before the commit.
    logger.info("appointment %s booked, ticket %s", appointment_id, ticket)


def _after_cancel(appointment_id: int) -> None:
    logger.info("appointment %s cancelled by the patient", appointment_id)


@transaction.atomic(durable=True)
def _book(
    *, actor: User, patient_id: int, slot_id: int, key: uuid.UUID, ip: str | None
) -> BookingResult:
    _set_lock_timeout()
    patient = _lock_patient(patient_id)
    replay = Appointment.objects.filter(booked_by=actor, idempotency_key=key).first()
    if replay is not None:
        return BookingResult(replay, created=False)
    slot = _lock_slot(slot_id)
    # Everything read before the locks is advisory; decide again now (STYLE habit 3).
    now = timezone.now()
    _check_slot(slot, now)
    _check_place(patient, actor.pk, slot)
    _check_patient_rules(patient, slot, now)
    _claim_slot(slot)
    appointment = Appointment.objects.create(
        slot=slot,
        patient=patient,
        booked_by=actor,
        specialty_id=slot.doctor.specialty_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        ticket_number=_ticket_number(),
        idempotency_key=key,
    )
    audit_record(
        AuditAction.APPOINTMENT_BOOKED,
        actor=actor,
        ip=ip,
        patient=patient,
        appointment=appointment.pk,
        ticket=appointment.ticket_number,
        doctor=slot.doctor_id,
        starts_at=slot.starts_at.isoformat(),
    )
    transaction.on_commit(partial(_after_booking, appointment.pk, appointment.ticket_number))
    return BookingResult(appointment, created=True)


def appointment_book(
    *,
    actor: User,
    patient: Patient,
    slot_id: int,
    idempotency_key: uuid.UUID,
    ip: str | None = None,
) -> BookingResult:
    """Book ``slot_id`` for ``patient`` (whom the caller has checked ``actor`` may act for).

    Raises BookingRefused with a code of errors.ERRORS; never a database error.
    """
    early = _answer_for_taken_slot(actor=actor, slot_id=slot_id, idempotency_key=idempotency_key)
    if early is not None:
        return early
    try:
        return _book(
            actor=actor, patient_id=patient.pk, slot_id=slot_id, key=idempotency_key, ip=ip
        )
    except OperationalError as exc:
        if _is_lock_timeout(exc):
            raise BookingRefused("busy") from exc
        raise
    except IntegrityError as exc:
        # The constraints caught what the locks should have: a twin request with the
        # same key won (replay it), or the slot was taken.
        replay = Appointment.objects.filter(
            booked_by=actor, idempotency_key=idempotency_key
        ).first()
        if replay is not None:
            return BookingResult(replay, created=False)
        raise BookingRefused("slot_taken") from exc


def _answer_for_taken_slot(
    *, actor: User, slot_id: int, idempotency_key: uuid.UUID
) -> BookingResult | None:
    """At 07:00 most POSTs are for slots already gone: answer those without locks.

    A lock-free read is enough to refuse: a booked slot only frees up by a cancellation,
    and a click a moment later would be refused too. It is never enough to *grant* a
    slot; that happens only under the locks in `_book`. A double click whose first
    request won must still get its appointment back, not "taken".
    """
    if not Slot.objects.filter(pk=slot_id, status=Slot.Status.BOOKED).exists():
        return None
    replay = Appointment.objects.filter(booked_by=actor, idempotency_key=idempotency_key).first()
    if replay is not None:
        return BookingResult(replay, created=False)
    raise BookingRefused("slot_taken")


@transaction.atomic(durable=True)
def _cancel(*, actor: User, appointment_id: int, ip: str | None) -> Appointment:
    _set_lock_timeout()
    current = Appointment.objects.get(pk=appointment_id)
    patient = _lock_patient(current.patient_id)
    _lock_slot(current.slot_id)
    now = timezone.now()
    if current.starts_at <= now:
        raise BookingRefused("cancel_too_late")
    changed = Appointment.objects.filter(pk=current.pk, status=Appointment.Status.BOOKED).update(
        status=Appointment.Status.CANCELLED_PATIENT, cancelled_at=now
    )
    if changed != 1:
        raise BookingRefused("cancel_not_active")
    # Free again at once: another patient may take the time right away.
    Slot.objects.filter(pk=current.slot_id, status=Slot.Status.BOOKED).update(
        status=Slot.Status.FREE
    )
    audit_record(
        AuditAction.APPOINTMENT_CANCELLED,
        actor=actor,
        ip=ip,
        patient=patient,
        appointment=current.pk,
        ticket=current.ticket_number,
    )
    transaction.on_commit(partial(_after_cancel, current.pk))
    current.refresh_from_db()
    return current


def appointment_cancel(
    *, actor: User, appointment: Appointment, ip: str | None = None
) -> Appointment:
    """Cancel an appointment the caller fetched with `appointment_get_for_user`."""
    try:
        return _cancel(actor=actor, appointment_id=appointment.pk, ip=ip)
    except OperationalError as exc:
        if _is_lock_timeout(exc):
            raise BookingRefused("busy") from exc
        raise


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
    try:
        return _mark_attendance(
            actor=actor, appointment_id=appointment.pk, attended=attended, ip=ip
        )
    except OperationalError as exc:
        if _is_lock_timeout(exc):
            raise BookingRefused("busy") from exc
        raise
