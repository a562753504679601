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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import router
from django.db.models import Case, F, IntegerField, OuterRef, Q, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from portal.core.rows import built
from portal.directory import selectors as directory
from portal.directory.models import Clinic, Doctor
from portal.identity.models import User
from portal.patients.models import Patient
from portal.patients.selectors import (
    Visibility,
    VisibleRows,
    actable_by,
    patients_seen_by_user,
)
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


def upcoming_read(seen: Visibility, now: datetime.datetime) -> "QuerySet[Appointment, Row]":
    """The rows of the booked appointments to come that ``seen`` may see, soonest first:
    the read `appointments_of_rows` builds the list from. A caller may annotate more
    columns after these (the cabinet's look at its other lists, in the same statement)."""
    return (
        Appointment.objects.filter(seen.records(author="booked_by_id"))
        .filter(status=Appointment.Status.BOOKED, starts_at__gt=now)
        .order_by("starts_at", "pk")
        .values_list(*_JOINED)
    )


def _listed(seen: Visibility, now: datetime.datetime) -> "QuerySet[Appointment, Row]":
    """«Мои записи»'s two lists in one statement, each row with its place: 0 for every
    appointment to come (as `upcoming_read`, soonest first), then 1…HISTORY_SHOWN for the
    others, past or cancelled, latest first."""
    to_come = Q(status=Appointment.Status.BOOKED, starts_at__gt=now)
    latest_first = Window(
        RowNumber(),
        partition_by=[Case(When(to_come, then=Value(True)), default=Value(False))],
        order_by=[F("starts_at").desc(), F("pk").desc()],
    )
    return (
        Appointment.objects.filter(seen.records(author="booked_by_id"))
        .annotate(
            place=Case(
                When(to_come, then=Value(0)), default=latest_first, output_field=IntegerField()
            )
        )
        .filter(place__lte=HISTORY_SHOWN)
        .order_by("place", "starts_at", "pk")
        .values_list(*_JOINED, "place")
    )


# Columns an app above this one reads with «Мои записи»'s list, in the list's own
# statement: name -> its expression over the same visibility and moment. Registered by
# `read_with_appointment_list` when the apps are ready, before the read is first compiled.
_read_along: dict[str, Callable[[Visibility, datetime.datetime], Any]] = {}


def read_with_appointment_list(
    name: str, build: Callable[[Visibility, datetime.datetime], Any]
) -> None:
    """Have ``build(seen, now)`` (an expression of one value, such as a subquery's count)
    read in the statement of «Мои записи»'s list: its page then pays one round trip for
    both (docs/performance.md, «Мои записи» with the waitlist's count). The value comes
    back in `AppointmentLists.along`, which lacks it when the list has no row to carry it."""
    _read_along[name] = build


def _listed_along(seen: Visibility, now: datetime.datetime) -> "QuerySet[Appointment, Row]":
    return _listed(seen, now).annotate(
        **{name: build(seen, now) for name, build in _read_along.items()}
    )


_UPCOMING = VisibleRows(upcoming_read)
_LISTED = VisibleRows(_listed_along)


@dataclass(frozen=True)
class AppointmentLists:
    """«Мои записи»: the appointments to come, the last HISTORY_SHOWN others, and the
    values read along with them (`read_with_appointment_list`)."""

    upcoming: list[Appointment]
    history: list[Appointment]
    along: dict[str, Any] = field(default_factory=dict)


def _read(user: User, now: datetime.datetime, *, history: bool) -> AppointmentLists:
    along: dict[str, Any] = {}
    if history:
        # «Мои записи» shows both lists: one round trip (docs/performance.md, «Мои записи»
        # in one statement), with what is read along after the row's place.
        rows = _LISTED.rows(user, now)
        width = len(_JOINED)
        if rows:
            along = dict(zip(_read_along, rows[0][width + 1 :], strict=True))
        upcoming = [row[:width] for row in rows if row[width] == 0]
        past = [row[:width] for row in rows if row[width] != 0]
    else:
        upcoming, past = _UPCOMING.rows(user, now), []
    if not upcoming and not past:
        return AppointmentLists([], [], along)
    patients = patients_seen_by_user(user, actable_by(user))
    return AppointmentLists(_appointments(upcoming, patients), _appointments(past, patients), along)


def appointments_of_rows(user: User, rows: list[Row]) -> list[Appointment]:
    """The appointments of rows read by `upcoming_read` for ``user``, as
    `appointments_list_upcoming_for_user` gives them; columns a caller annotated after
    the read's own are left out."""
    if not rows:
        return []
    width = len(_JOINED)
    patients = patients_seen_by_user(user, actable_by(user))
    return _appointments([row[:width] for row in rows], patients)


def _appointments(rows: list[Row], patients: dict[int, Patient]) -> list[Appointment]:
    """Appointments of the narrow rows, with what the lists show attached (the rest of each
    row is deferred: read only if something asks)."""
    db = router.db_for_read(Appointment)
    columns, doctor_end = len(_COLUMNS), len(_COLUMNS) + len(_DOCTOR)
    result = []
    for row in rows:
        appointment = built(Appointment, db, _COLUMNS, row[:columns])
        doctor = built(Doctor, db, _DOCTOR, row[columns:doctor_end])
        _attach(doctor, "clinic", built(Clinic, db, _CLINIC, (doctor.clinic_id, row[-1])))
        slot = built(Slot, db, ["id", "doctor_id"], (appointment.slot_id, doctor.pk))
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
    return _read(user, timezone.now(), history=False).upcoming


def appointments_list_for_user(user: User) -> AppointmentLists:
    """«Мои записи»: upcoming active ones, and the last HISTORY_SHOWN others (past or
    cancelled). One view for a guardian: the user's own appointments and their children's."""
    return _read(user, timezone.now(), history=True)


def own_on_slot(
    seen: Visibility, slot: "int | OuterRef", patient_id: int
) -> "QuerySet[Appointment, Row]":
    """The id of the patient's booked appointment on ``slot`` (an id, or the outer
    query's slot) if this user may see it."""
    return (
        Appointment.objects.filter(seen.records(author="booked_by_id"))
        .filter(patient_id=patient_id, slot_id=slot, status=Appointment.Status.BOOKED)
        .values_list("pk")[:1]
    )
