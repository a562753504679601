"""The booking rules that depend only on the patient and the place (DESIGN §4 Booking).

Used twice: by the wizard, to show an unavailable choice with its reason instead of
hiding it, and by `appointment_book`, under the lock, as the authoritative check.
"""

import datetime

from django.conf import settings
from django.utils import timezone

from portal.directory.models import Clinic, Specialty
from portal.patients.models import Patient

ADULT_AGE = 18


def local_today() -> datetime.date:
    return timezone.localdate()


def child_refusal(patient: Patient, user_id: int | None) -> str | None:
    """A child of 14+ is not bookable from a parent's cabinet (only by themselves)."""
    if patient.user_id == user_id:
        return None
    if patient.age_on(local_today()) >= settings.CHILD_MAX_AGE:
        return "child_too_old"
    return None


def clinic_refusal(patient: Patient, clinic: Clinic) -> str | None:
    is_child = patient.age_on(local_today()) < ADULT_AGE
    if clinic.kind == Clinic.Kind.CHILDREN and not is_child:
        return "clinic_children"
    if clinic.kind == Clinic.Kind.ADULT and is_child:
        return "clinic_adults"
    return None


def specialty_refusal(patient: Patient, specialty: Specialty, clinic: Clinic) -> str | None:
    """Why this patient cannot book this specialty at this clinic, or None."""
    if specialty.access == Specialty.Access.REFERRAL:
        return "referral_only"
    is_child = patient.age_on(local_today()) < ADULT_AGE
    if specialty.age_group == Specialty.AgeGroup.CHILDREN and not is_child:
        return "children_only"
    if specialty.age_group == Specialty.AgeGroup.ADULTS and is_child:
        return "adults_only"
    if specialty.access == Specialty.Access.ATTACHMENT:
        if patient.clinic_id is None:
            return "no_attachment"
        if patient.clinic_id != clinic.pk:
            return "attachment_only"
    return None
