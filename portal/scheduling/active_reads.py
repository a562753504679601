"""Reads of a patient's active appointments: her booked appointments not yet over, all
the per-patient booking rules need (`rules`). One filter (`active_q`), read alone
(`appointments_list_active`), for many patients at once (a draw's bookings), or with
what a page reads besides: her referrals (`appointments_list_active_for`), a slot
(`selectors.slot_get_for_confirm`), the nearest-time search's slots (docs/performance.md,
issue 25)."""

import datetime
from collections.abc import Collection
from typing import Any

from django.db import router
from django.db.models import DateTimeField, F, IntegerField, Q, QuerySet, Value
from django.utils import timezone

from portal.core.compiled import CompiledQuery, Row
from portal.core.rows import built
from portal.directory.models import Specialty
from portal.patients.models import Patient
from portal.referrals.models import Referral
from portal.referrals.selectors import (
    HELD_COLUMNS,
    held_rows,
    referrals_held_keep,
    referrals_held_known,
)
from portal.scheduling.models import Appointment

ACTIVE_COLUMNS = ["id", "specialty_id", "starts_at", "ends_at"]


def active_q(patient_id: int, now: datetime.datetime) -> Q:
    """The patient's booked appointments not yet over."""
    return Q(patient_id=patient_id, status=Appointment.Status.BOOKED, ends_at__gt=now)


def active_rows_of(patient_id: int, now: datetime.datetime) -> "QuerySet[Appointment, Row]":
    return Appointment.objects.filter(active_q(patient_id, now)).values_list(*ACTIVE_COLUMNS)


_ACTIVE_OF = CompiledQuery(active_rows_of)


def _active_and_held_referrals(
    patient_id: int, now: datetime.datetime
) -> "QuerySet[Referral, Row]":
    """The patient's referrals the referral rule reads (`referrals.selectors.held_rows`,
    kind 0) and her active appointments (`active_q`, kind 1) in one statement.
    The referrals' columns come first, then an appointment's start and end; an
    appointment's id and specialty stand in the referral's id and specialty columns
    (the same types), NULLs in the rest."""
    moment = DateTimeField()
    held = held_rows(patient_id).annotate(
        active_starts_at=Value(None, output_field=moment),
        active_ends_at=Value(None, output_field=moment),
        kind=Value(0),
    )
    # Annotations only: a values_list of them keeps their order (with fields among them,
    # the ORM would put the fields first), so the columns line up with the referrals'.
    lined_up: dict[str, Any] = {
        f"active_{name}": F(name)
        if name in ("id", "specialty_id")
        else Value(None, output_field=IntegerField())
        for name in HELD_COLUMNS
    }
    lined_up |= {"starts": F("starts_at"), "ends": F("ends_at"), "kind": Value(1)}
    active = (
        Appointment.objects.filter(active_q(patient_id, now))
        .order_by()
        .annotate(**lined_up)
        .values_list(*lined_up)
    )
    return held.union(active, all=True).order_by("kind", "active_starts_at", "id")


_ACTIVE_AND_HELD_REFERRALS = CompiledQuery(_active_and_held_referrals)


def appointments_list_active_for(
    patient: Patient, specialties: Collection[Specialty], now: datetime.datetime | None = None
) -> list[Appointment]:
    """`appointments_list_active`, and when one of ``specialties`` needs a referral (the
    referral rule will read the patient's referrals) her referrals too, in the same
    statement (docs/performance.md, «Referrals read with the active appointments»)."""
    now = now or timezone.now()
    needs_referrals = any(s.access == Specialty.Access.REFERRAL for s in specialties)
    if not needs_referrals or referrals_held_known(patient):
        return appointments_list_active(patient, now)
    rows = _ACTIVE_AND_HELD_REFERRALS.rows(patient.pk, now)
    referrals_held_keep(patient, [row[:-3] for row in rows if row[-1] == 0])
    # The appointment's id, specialty, start and end, as `ACTIVE_COLUMNS`.
    return active_built(
        [(row[0], row[_SPECIALTY_AT], row[-3], row[-2]) for row in rows if row[-1] == 1]
    )


_SPECIALTY_AT = HELD_COLUMNS.index("specialty_id")


def active_built(rows: list[Row]) -> list[Appointment]:
    """Appointments of rows of `ACTIVE_COLUMNS` (the rest deferred)."""
    db = router.db_for_read(Appointment)
    return [built(Appointment, db, ACTIVE_COLUMNS, row) for row in rows]


def appointments_list_active(
    patient: Patient, now: datetime.datetime | None = None
) -> list[Appointment]:
    """The patient's booked appointments not yet over: all the per-patient rules need
    (their id, specialty, start and end; the rest is deferred)."""
    return active_built(_ACTIVE_OF.rows(patient.pk, now or timezone.now()))


def appointments_list_active_of(
    patient_ids: Collection[int], now: datetime.datetime
) -> dict[int, list[Appointment]]:
    """`appointments_list_active` for many patients in one read (a draw's bookings):
    patient id → their booked appointments not yet over (every id is a key)."""
    active: dict[int, list[Appointment]] = {pk: [] for pk in patient_ids}
    rows = Appointment.objects.filter(
        patient_id__in=active, status=Appointment.Status.BOOKED, ends_at__gt=now
    ).only("pk", "patient_id", "specialty_id", "starts_at", "ends_at")
    for row in rows:
        active[row.patient_id].append(row)
    return active
