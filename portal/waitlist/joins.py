"""Many patients join the waitlist at once: the losers of fair-release draws
(docs/fair-release.md, «The draw»; docs/waitlist.md).

`services.entry_join` costs about fifteen statements and a transaction per patient, and
the draws at an opening moment put hundreds of losers on the waitlists of their clinic,
specialty and day. Here the same checks — who may act for whom
(`patients.selectors.actables_by`, the one rule), the booking's own rules for the place
(`services.entry_join_refusal`, given the facts read once) — and the same rows (the
entry, its audit event) cost a fixed number of statements. Free times are then offered by
the caller through `services.slot_freed`, once for the group rather than once per entry.
"""

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from portal.audit.models import AuditAction
from portal.audit.services import AuditEntry, audit_record_many
from portal.directory.models import Clinic, Doctor, Specialty
from portal.identity.models import User
from portal.patients.models import Patient
from portal.patients.selectors import actables_by
from portal.scheduling.selectors import appointments_list_active_of
from portal.waitlist.errors import WaitlistRefused
from portal.waitlist.models import WaitlistEntry
from portal.waitlist.selectors import places_doctors
from portal.waitlist.services import _times_clean, entry_join, entry_join_refusal

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Joiner:
    """One patient to put on a waitlist, as `entry_join` takes them."""

    ref: int  # the caller's id for them (a ballot request), returned when they joined
    actor: User
    patient: Patient
    clinic_id: int
    specialty_id: int
    doctor_id: int | None
    date_from: datetime.date
    date_to: datetime.date
    times: str  # the waitlist's parts of the day ("" = any time)


@dataclass(frozen=True)
class _Accepted:
    joiner: Joiner
    clinic: Clinic
    specialty: Specialty
    doctor: Doctor | None
    times: str  # cleaned


def entries_join_many(joiners: Sequence[Joiner]) -> set[int]:
    """Put each joiner's patient on their place's waitlist, in the given order (their
    order in the line); returns the refs of those who joined. One the rules refuse
    (already waiting in this specialty, no longer actable for, …) is left out and logged,
    as a refused `entry_join` would leave them."""
    if not joiners:
        return set()
    accepted = _accepted(joiners)
    if not accepted:
        return set()
    try:
        return _write(accepted)
    except IntegrityError:
        # Someone of them joined meanwhile (the one-live-entry constraint): one by one.
        return {a.joiner.ref for a in accepted if _join_one(a.joiner)}


def _accepted(joiners: Sequence[Joiner]) -> list[_Accepted]:
    """The joiners the rules let in, with their place and cleaned parts of the day."""
    clinics = Clinic.objects.in_bulk({j.clinic_id for j in joiners})
    specialties = Specialty.objects.in_bulk({j.specialty_id for j in joiners})
    doctors = places_doctors({(j.clinic_id, j.specialty_id) for j in joiners})
    actables = actables_by({j.actor.pk for j in joiners})
    active = appointments_list_active_of({j.patient.pk for j in joiners}, timezone.now())
    accepted = []
    for j in joiners:
        try:
            clinic, specialty = clinics.get(j.clinic_id), specialties.get(j.specialty_id)
            place = doctors[j.clinic_id, j.specialty_id]
            doctor = place.get(j.doctor_id) if j.doctor_id is not None else None
            # `entry_join`'s own checks first, in its order, then its rule.
            if j.patient.pk not in actables[j.actor.pk].all:
                raise WaitlistRefused("not_yours")
            if clinic is None or specialty is None:
                raise WaitlistRefused("place_unknown")
            if j.doctor_id is not None and doctor is None:
                raise WaitlistRefused("doctor_unknown")
            times = _times_clean(j.times)
            code = entry_join_refusal(
                actor_id=j.actor.pk,
                patient=j.patient,
                clinic=clinic,
                specialty=specialty,
                doctor=doctor,
                date_from=j.date_from,
                date_to=j.date_to,
                active=active[j.patient.pk],
                place_doctors=place,
            )
            if code:
                raise WaitlistRefused(code)
        except WaitlistRefused as refused:
            logger.info("%s not put on the waitlist: %s", j.ref, refused.code)
            continue
        accepted.append(_Accepted(j, clinic, specialty, doctor, times))
    return accepted


def _of_patients_in_their_specialty(accepted: list[_Accepted]) -> Q:
    """Each joiner's patient's entries in the joiner's specialty (one OR per specialty)."""
    by_specialty: dict[int, set[int]] = {}
    for a in accepted:
        by_specialty.setdefault(a.specialty.pk, set()).add(a.joiner.patient.pk)
    return reduce(
        or_, (Q(specialty_id=s, patient_id__in=ids) for s, ids in sorted(by_specialty.items()))
    )


def _write(accepted: list[_Accepted]) -> set[int]:
    theirs = _of_patients_in_their_specialty(accepted)
    with transaction.atomic(durable=True):
        # An entry whose dates are over is not live any more, whatever its row says.
        WaitlistEntry.objects.filter(
            theirs, status=WaitlistEntry.Status.WAITING, date_to__lt=timezone.localdate()
        ).update(status=WaitlistEntry.Status.ENDED, ended_at=timezone.now())
        waiting = set(
            WaitlistEntry.objects.filter(theirs, status__in=WaitlistEntry.LIVE).values_list(
                "patient_id", "specialty_id"
            )
        )
        rows = [a for a in accepted if (a.joiner.patient.pk, a.specialty.pk) not in waiting]
        entries = WaitlistEntry.objects.bulk_create(
            [
                WaitlistEntry(
                    # Ids, not instances: a related instance costs a router check per row.
                    patient_id=a.joiner.patient.pk,
                    created_by_id=a.joiner.actor.pk,
                    clinic_id=a.clinic.pk,
                    specialty_id=a.specialty.pk,
                    doctor_id=a.doctor.pk if a.doctor is not None else None,
                    date_from=a.joiner.date_from,
                    date_to=a.joiner.date_to,
                    times=a.times,
                )
                for a in rows
            ]
        )
        audit_record_many(
            AuditEntry(
                AuditAction.WAITLIST_JOINED,
                a.joiner.actor.pk,
                a.joiner.patient.pk,
                {
                    "entry": entry.pk,
                    "clinic": a.clinic.pk,
                    "specialty": a.specialty.pk,
                    **({"doctor": a.doctor.pk} if a.doctor is not None else {}),
                    "date_from": a.joiner.date_from.isoformat(),
                    "date_to": a.joiner.date_to.isoformat(),
                    "times": a.times,
                },
            )
            for a, entry in zip(rows, entries, strict=True)
        )
    return {a.joiner.ref for a in rows}


def _join_one(joiner: Joiner) -> bool:
    try:
        entry_join(
            actor=joiner.actor,
            patient=joiner.patient,
            clinic_id=joiner.clinic_id,
            specialty_id=joiner.specialty_id,
            doctor_id=joiner.doctor_id,
            date_from=joiner.date_from,
            date_to=joiner.date_to,
            times=joiner.times,
            ip=None,
        )
    except WaitlistRefused as refused:
        logger.info("%s not put on the waitlist: %s", joiner.ref, refused.code)
        return False
    return True
