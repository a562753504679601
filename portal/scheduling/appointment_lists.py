"""«Мои записи», the cabinet's «Ближайшие приёмы» and the confirm page's «уже записаны»:
narrow reads of the appointments a user may see (docs/performance.md, issue 25).

The lists show each appointment with its patient, specialty, doctor and clinic. They were
one five-table join per list, compiled by the ORM on every request; now the appointments
are read alone (their columns and the slot's doctor) by statements compiled once
(`core.compiled`), the directory's part comes from the directory's cache and the patients
from what the request already read (the user's own record and children). Which rows the
user may see is the patients app's one rule of visibility
(`patients.selectors.Visibility.records`), applied to this user's ids inside the query.
"""

import datetime
from typing import Any

from django.db import router
from django.db.models import QuerySet
from django.utils import timezone

from portal.core.compiled import CompiledQuery
from portal.directory import selectors as directory
from portal.directory.models import Clinic, Doctor
from portal.identity.models import User
from portal.patients.models import Patient
from portal.patients.selectors import Actable, Visibility, actable_by, patients_seen_by_user
from portal.scheduling.models import Appointment, Slot

Row = tuple[Any, ...]
HISTORY_SHOWN = 50
_COLUMNS = ["id", "slot_id", "patient_id", "specialty_id", "starts_at", "ends_at", "status",
            "ticket_number"]  # fmt: skip
# What the lists show of the doctor and the clinic, read with the appointment: a patient's
# doctors are many and rarely in the directory's cache yet.
_DOCTOR = ["id", "clinic_id", "last_name", "first_name", "middle_name", "room"]
_CLINIC = ["id", "short_name"]
_JOINED = [
    *_COLUMNS,
    *(f"slot__doctor__{name}" for name in _DOCTOR),
    "slot__doctor__clinic__short_name",
]


def _visible(
    user_id: int, in_full: tuple[int, ...], unverified: tuple[int, ...]
) -> "QuerySet[Appointment]":
    """Appointments ``user_id`` may see, from the parts of their `Visibility`."""
    seen = Visibility(
        user_id=user_id,
        actable=Actable(own=in_full[0], verified=in_full[1:], unverified=unverified),
    )
    return Appointment.objects.filter(seen.records(author="booked_by_id"))


def _upcoming(
    now: datetime.datetime,
    user_id: int,
    in_full: tuple[int, ...],
    unverified: tuple[int, ...] = (),
) -> "QuerySet[Appointment, Row]":
    return (
        _visible(user_id, in_full, unverified)
        .filter(status=Appointment.Status.BOOKED, starts_at__gt=now)
        .order_by("starts_at", "pk")
        .values_list(*_JOINED)
    )


def _history(
    now: datetime.datetime,
    user_id: int,
    in_full: tuple[int, ...],
    unverified: tuple[int, ...] = (),
) -> "QuerySet[Appointment, Row]":
    return (
        _visible(user_id, in_full, unverified)
        .exclude(status=Appointment.Status.BOOKED, starts_at__gt=now)
        .order_by("-starts_at", "-pk")
        .values_list(*_JOINED)[:HISTORY_SHOWN]
    )


# Without an unverified guardianship the rule has no second branch, and does not name the
# user: a query of its own (an empty tuple cannot stand in for ids, and every argument of a
# compiled query must reach its SQL).
_UPCOMING = CompiledQuery(lambda now, in_full: _upcoming(now, 0, in_full))
_UPCOMING_PARTLY = CompiledQuery(_upcoming)
_HISTORY = CompiledQuery(lambda now, in_full: _history(now, 0, in_full))
_HISTORY_PARTLY = CompiledQuery(_history)


def _read(
    user: User, now: datetime.datetime, *, history: bool
) -> tuple[list[Appointment], list[Appointment]]:
    actable = actable_by(user)
    if actable.own is None:
        return [], []
    in_full = tuple(actable.in_full)
    lists: list[tuple[CompiledQuery, CompiledQuery]] = [(_UPCOMING, _UPCOMING_PARTLY)]
    if history:
        lists.append((_HISTORY, _HISTORY_PARTLY))
    read = []
    for full, partly in lists:
        if actable.unverified:
            read.append(partly.rows(now, user.pk, in_full, actable.unverified))
        else:
            read.append(full.rows(now, in_full))
    patients = patients_seen_by_user(user, actable)
    upcoming = _appointments(read[0], patients)
    return upcoming, _appointments(read[1], patients) if history else []


def _appointments(rows: list[Row], patients: dict[int, Patient]) -> list[Appointment]:
    """Appointments of the narrow rows, with what the lists show attached (the rest of each
    row is deferred: read only if something asks)."""
    db = router.db_for_read(Appointment)
    columns, doctor_end = len(_COLUMNS), len(_COLUMNS) + len(_DOCTOR)
    result = []
    for row in rows:
        appointment = Appointment.from_db(db, _COLUMNS, row[:columns])
        doctor = Doctor.from_db(db, _DOCTOR, row[columns:doctor_end])
        _attach(doctor, "clinic", Clinic.from_db(db, _CLINIC, (doctor.clinic_id, row[-1])))
        slot = Slot.from_db(db, ["id", "doctor_id"], (appointment.slot_id, doctor.pk))
        _attach(slot, "doctor", doctor)
        _attach(appointment, "slot", slot)
        _attach(appointment, "patient", patients.get(appointment.patient_id))
        _attach(appointment, "specialty", directory.specialty_cached(appointment.specialty_id))
        result.append(appointment)
    return result


def _attach(instance: Any, name: str, related: Any) -> None:
    if related is not None:  # else the ORM reads it when asked, as before
        instance._meta.get_field(name).set_cached_value(instance, related)


def appointments_list_upcoming_for_user(user: User) -> list[Appointment]:
    """The user's and their children's booked appointments to come, soonest first."""
    return _read(user, timezone.now(), history=False)[0]


def appointments_list_for_user(user: User) -> tuple[list[Appointment], list[Appointment]]:
    """«Мои записи»: upcoming active ones, and the last HISTORY_SHOWN others (past or
    cancelled). One view for a guardian: the user's own appointments and their children's."""
    return _read(user, timezone.now(), history=True)


def _on_slot(
    slot_id: int,
    patient_id: int,
    user_id: int,
    in_full: tuple[int, ...],
    unverified: tuple[int, ...] = (),
) -> "QuerySet[Appointment, Row]":
    return (
        _visible(user_id, in_full, unverified)
        .filter(patient_id=patient_id, slot_id=slot_id, status=Appointment.Status.BOOKED)
        .values_list("pk")[:1]
    )


_ON_SLOT = CompiledQuery(
    lambda slot_id, patient_id, in_full: _on_slot(slot_id, patient_id, 0, in_full)
)
_ON_SLOT_PARTLY = CompiledQuery(_on_slot)


def appointment_id_on_slot_for_user(user: User, patient: Patient, slot_id: int) -> int | None:
    """The patient's own active appointment on this slot, if this user may see it: the
    confirm page reached again (Back after booking) shows her booking, not «занято»."""
    actable = actable_by(user)
    if actable.own is None:
        return None
    in_full = tuple(actable.in_full)
    if actable.unverified:
        rows = _ON_SLOT_PARTLY.rows(slot_id, patient.pk, user.pk, in_full, actable.unverified)
    else:
        rows = _ON_SLOT.rows(slot_id, patient.pk, in_full)
    return rows[0][0] if rows else None
