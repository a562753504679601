"""Reads of referrals: what the rule needs, the patient's page, the clinic's list."""

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from portal.directory.models import Specialty
from portal.patients.models import Patient
from portal.referrals import rules
from portal.referrals.models import Referral

_HELD = "_referrals_held"


def today() -> datetime.date:
    return timezone.localdate()


def held_query(patient_id: int) -> QuerySet[Referral]:
    """Active referrals (expired ones included: the rule tells them apart by date) and used
    ones, which a move carries to the new time."""
    return (
        Referral.objects.filter(
            patient_id=patient_id, status__in=(Referral.Status.ACTIVE, Referral.Status.USED)
        )
        .select_related("issuer_clinic", "issuer_doctor", "clinic")
        .order_by("pk")
    )


def referrals_held(patient: Patient) -> list[Referral]:
    """The rows the referral rule reads for ``patient``, loaded once per patient object:
    a page asking the rule for many specialties costs one query. The booking service does
    not use this: it locks the rows (`locks.referrals_lock`) and passes them."""
    cached: list[Referral] | None = getattr(patient, _HELD, None)
    if cached is None:
        cached = list(held_query(patient.pk))
        setattr(patient, _HELD, cached)
    return cached


def referrals_fitting(
    patient: Patient, specialty: Specialty, clinic_id: int | None
) -> list[Referral]:
    """The referrals a booking of ``specialty`` at ``clinic_id`` could use, soonest
    expiring first (the wizard names the one it will use, or lets the patient pick);
    empty for a specialty that needs none."""
    if specialty.access != Specialty.Access.REFERRAL:
        return []
    return rules.referrals_fitting(referrals_held(patient), specialty.pk, clinic_id, today())


def referrals_of_patient(patient: Patient) -> QuerySet[Referral]:
    """The patient's «Направления»: every referral, with what it names."""
    return Referral.objects.filter(patient=patient).select_related(
        "specialty", "clinic", "issuer_clinic", "issuer_doctor", "appointment__slot__doctor"
    )


def referral_get_for_patient(patient: Patient, referral_id: int) -> Referral | None:
    return referrals_of_patient(patient).filter(pk=referral_id).first()


def referrals_of_clinic(clinic_ids: list[int] | None) -> QuerySet[Referral]:
    """Referrals a clinic issued (``None``: every clinic, for the regional operator)."""
    rows = Referral.objects.select_related(
        "patient", "specialty", "clinic", "issuer_clinic", "issuer_doctor", "appointment"
    ).order_by("-issued_on", "-pk")
    return rows if clinic_ids is None else rows.filter(issuer_clinic_id__in=clinic_ids)


def referrals_expiring(day: datetime.date) -> QuerySet[Referral]:
    """Active referrals whose last valid day is ``day`` (the expiry reminder)."""
    return Referral.objects.filter(status=Referral.Status.ACTIVE, valid_until=day)


def flagged_for_clinic(clinic_ids: list[int] | None) -> QuerySet[Referral]:
    """Referrals cancelled in error while an appointment they backed stays booked: the
    clerk decides about that appointment (docs/referrals.md)."""
    return referrals_of_clinic(clinic_ids).filter(
        Q(status=Referral.Status.CANCELLED) & Q(appointment__status="booked")
    )
