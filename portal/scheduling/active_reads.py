"""Reads of a patient's active appointments: her booked appointments not yet over, all
the per-patient booking rules need (`rules`). One filter (`active_q`), read alone
(`appointments_list_active`), for many patients at once (a draw's bookings), or as a
part of a statement that reads what a page needs besides (`active_part`,
`core.reads_together`): her referrals (`appointments_list_active_for`), a slot
(`selectors.slot_get_for_confirm`), the nearest-time search's slots (docs/performance.md,
issue 25)."""

import datetime
from collections.abc import Collection
from typing import Any

from django.db import router
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from portal.core.compiled import CompiledQuery, Row
from portal.core.reads_together import Part, apart, together
from portal.core.rows import built
from portal.directory.models import Specialty
from portal.patients.models import Patient
from portal.referrals.selectors import (
    HELD_COLUMNS,
    held_rows,
    referrals_held_keep,
    referrals_held_known,
)
from portal.scheduling.models import Appointment

ACTIVE_COLUMNS = ["id", "specialty_id", "starts_at", "ends_at"]


def _booked_ahead(now: datetime.datetime) -> Q:
    return Q(status=Appointment.Status.BOOKED, ends_at__gt=now)


def active_q(patient_id: int, now: datetime.datetime) -> Q:
    """The patient's booked appointments not yet over."""
    return Q(patient_id=patient_id) & _booked_ahead(now)


def active_rows_of(patient_id: int, now: datetime.datetime) -> "QuerySet[Appointment, Row]":
    return Appointment.objects.filter(active_q(patient_id, now)).values_list(*ACTIVE_COLUMNS)


_ACTIVE_OF = CompiledQuery(active_rows_of)


def active_part(patient_id: int, now: datetime.datetime) -> Part:
    """`active_rows_of` as a part of a statement that reads more (`core.reads_together`):
    the same rows and columns, earliest first."""
    return Part(
        Appointment.objects.filter(active_q(patient_id, now)),
        {name: F(name) for name in ACTIVE_COLUMNS},
        order=("starts_at", "id"),
    )


def _held_referrals_and_active(patient_id: int, now: datetime.datetime) -> "QuerySet[Any, Row]":
    """The patient's referrals the referral rule reads (`referrals.selectors.held_rows`,
    by id) and her active appointments (`active_part`), in one statement."""
    held = Part(held_rows(patient_id), {name: F(name) for name in HELD_COLUMNS}, order=("id",))
    return together(held, active_part(patient_id, now))


_HELD_REFERRALS_AND_ACTIVE = CompiledQuery(_held_referrals_and_active)


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
    rows = _HELD_REFERRALS_AND_ACTIVE.rows(patient.pk, now)
    held, active = apart(rows, len(HELD_COLUMNS), len(ACTIVE_COLUMNS))
    referrals_held_keep(patient, held)
    return active_built(active)


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
    rows = Appointment.objects.filter(Q(patient_id__in=active) & _booked_ahead(now)).only(
        "pk", "patient_id", "specialty_id", "starts_at", "ends_at"
    )
    for row in rows:
        active[row.patient_id].append(row)
    return active
