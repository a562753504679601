"""The slot row lock: lock 2 of every writer of booking state (docs/concurrency.md),
after the patient's (`patients.locks`). The policy — timeouts, order — is `core.locking`'s."""

import datetime
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection

from portal.core import rows
from portal.core.locking import require_transaction
from portal.directory.models import Clinic, Doctor, Specialty
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Appointment, Slot


def slot_lock(slot_id: int) -> Slot:
    """Lock 2 of 2: the slot row. Raises slot_taken for an unknown slot (nothing to reveal)."""
    require_transaction()
    slot = (
        Slot.objects.select_for_update(of=("self",))
        .select_related("doctor__clinic", "doctor__specialty")
        .filter(pk=slot_id)
        .first()
    )
    if slot is None:
        raise BookingRefused("slot_taken")
    return slot


def slots_lock(*slot_ids: int) -> dict[int, Slot]:
    """Lock 2 for a writer that needs two slots: in id order, so two such writers never
    wait on each other in a cycle (a booking or a cancel locks one slot only)."""
    return {slot_id: slot_lock(slot_id) for slot_id in sorted(slot_ids)}


# --- the booking's lock 2, in one statement (docs/performance.md, issue 25) -----------


@dataclass(frozen=True, slots=True)
class ActiveAppointment:
    """One of the patient's booked appointments not yet over: what the per-patient rules
    (one per specialty, no overlap) read of it (`rules.ActiveAppointment`)."""

    pk: int
    specialty_id: int
    starts_at: datetime.datetime
    ends_at: datetime.datetime


@dataclass(frozen=True)
class SlotForBooking:
    slot: Slot  # with its doctor, the doctor's clinic and specialty, complete rows
    active: list[ActiveAppointment]  # the patient's, as `selectors.appointments_list_active`


SLOT = rows.Shape(Slot, "s")
DOCTOR = rows.Shape(Doctor, "d")
CLINIC = rows.Shape(Clinic, "c")
SPECIALTY = rows.Shape(Specialty, "sp")
ACTIVE = rows.Shape(Appointment, "a", ("id", "specialty", "starts_at", "ends_at"))


@cache
def _booking_sql(vendor: str) -> str:
    del vendor  # part of the key: the quoting and FOR UPDATE are the engine's
    q = rows.quoted
    return (
        f"SELECT {SLOT.sql()}, {DOCTOR.sql()}, {CLINIC.sql()}, {SPECIALTY.sql()}, {ACTIVE.sql()} "
        f"FROM {q(Slot._meta.db_table)} s "
        f"JOIN {q(Doctor._meta.db_table)} d ON d.id = s.doctor_id "
        f"JOIN {q(Clinic._meta.db_table)} c ON c.id = d.clinic_id "
        f"JOIN {q(Specialty._meta.db_table)} sp ON sp.id = d.specialty_id "
        f"LEFT JOIN {q(Appointment._meta.db_table)} a "
        "ON a.patient_id = %s AND a.status = %s AND a.ends_at > %s "
        f"WHERE s.id = %s {rows.for_update('s')}"
    )


def slot_lock_for_booking(
    slot_id: int, patient_id: int, since: datetime.datetime
) -> SlotForBooking:
    """Lock 2 of a booking, with everything its rules read but the patient's own row, in
    ONE statement: the slot row locked (``FOR UPDATE OF s``), its doctor, clinic and
    specialty read as they are (never locked), and the patient's booked appointments
    ending after ``since``, one output row each (or one row of NULLs).

    Expects the patient lock, taken by an earlier statement: the patient's appointments
    change only under it, so this statement's snapshot — taken after that lock was
    granted, even if it then waits for the slot — already holds all of them. (In the
    patient lock's own statement it would not: a snapshot taken before the wait misses
    what the previous holder wrote.) Raises slot_taken for an unknown slot.
    """
    require_transaction()
    params: list[Any] = [
        patient_id,
        Appointment.Status.BOOKED,
        connection.ops.adapt_datetimefield_value(since),
        slot_id,
    ]
    with rows.prepared() as cursor:
        cursor.execute(_booking_sql(connection.vendor), params)
        found = cursor.fetchall()
    if not found:
        raise BookingRefused("slot_taken")
    first = found[0]
    at = 0
    parts = []
    for shape in (SLOT, DOCTOR, CLINIC, SPECIALTY):
        parts.append(first[at : at + shape.width])
        at += shape.width
    slot, doctor = SLOT.instance(parts[0]), DOCTOR.instance(parts[1])
    doctor.clinic = CLINIC.instance(parts[2])
    doctor.specialty = SPECIALTY.instance(parts[3])
    slot.doctor = doctor
    # ACTIVE's columns in the model's order: id, specialty, starts_at, ends_at.
    active = [
        ActiveAppointment(*rows.converted(ACTIVE.fields, row[at:]))
        for row in found
        if row[at] is not None
    ]
    return SlotForBooking(slot, active)
