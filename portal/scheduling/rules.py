"""The booking rules that depend only on the patient and the place (DESIGN §4 Booking).

Used twice: by the wizard, to show an unavailable choice with its reason instead of
hiding it, and by `appointment_book`, under the lock, as the authoritative check.
"""

import datetime

from portal.directory.models import Clinic, Specialty
from portal.patients.models import Patient
from portal.patients.selectors import is_over_child_age, today_local

ADULT_AGE = 18


def child_refusal(patient: Patient, user_id: int | None) -> str | None:
    """A child of 14+ is not bookable from a parent's cabinet (only by themselves)."""
    if patient.user_id == user_id:
        return None
    if is_over_child_age(patient):
        return "child_too_old"
    return None


def clinic_refusal(patient: Patient, clinic: Clinic) -> str | None:
    is_child = patient.age_on(today_local()) < ADULT_AGE
    if clinic.kind == Clinic.Kind.CHILDREN and not is_child:
        return "clinic_children"
    if clinic.kind == Clinic.Kind.ADULT and is_child:
        return "clinic_adults"
    return None


def specialty_refusal(patient: Patient, specialty: Specialty, clinic: Clinic | None) -> str | None:
    """Why this patient cannot book this specialty at this clinic (None: any clinic)."""
    if specialty.access == Specialty.Access.REFERRAL:
        return "referral_only"
    is_child = patient.age_on(today_local()) < ADULT_AGE
    if specialty.age_group == Specialty.AgeGroup.CHILDREN and not is_child:
        return "children_only"
    if specialty.age_group == Specialty.AgeGroup.ADULTS and is_child:
        return "adults_only"
    if specialty.access == Specialty.Access.ATTACHMENT:
        if patient.clinic_id is None:
            return "no_attachment"
        if clinic is None or patient.clinic_id != clinic.pk:
            return "attachment_only"
    return None


def slot_refusal(slot, now: datetime.datetime) -> str | None:
    """Why a slot cannot be booked now. Authoritative only under the slot lock."""
    if slot.status == "booked":
        return "slot_taken"
    if slot.status == "blocked" or not slot.doctor.is_active:
        return "slot_blocked"
    if slot.starts_at <= now:
        return "slot_past"
    if slot.opens_at > now:
        return "slot_not_open"
    return None
