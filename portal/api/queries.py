"""Everything the API reads or writes in other apps, in one module.

The API owns no rules: it calls the same selectors, rules and services as the pages.
Keeping every import here means a rename elsewhere is fixed in one place.
"""

from portal.directory.models import Clinic, District, Doctor, Specialty
from portal.directory.selectors import specialty_cached
from portal.home_visits.errors import HomeVisitRefused
from portal.home_visits.models import HomeVisit
from portal.home_visits.rules import RED_FLAGS, SYMPTOMS
from portal.home_visits.selectors import visit_get_for_user, visits_visible_to
from portal.home_visits.services import VisitData, visit_create
from portal.patients.models import Guardianship, Patient
from portal.patients.selectors import (
    Sight,
    patient_of_user,
    patients_actable_by,
    visibility_for,
)
from portal.patients.services import patient_for_actor
from portal.referrals.models import Referral
from portal.referrals.rules import referral_state
from portal.referrals.selectors import referrals_visible, today
from portal.scheduling.errors import ERRORS, BookingRefused
from portal.scheduling.models import Appointment, Slot
from portal.scheduling.rules import slot_refusal
from portal.scheduling.selectors import (
    appointment_get_for_user,
    appointments_visible,
    bookable_q,
)
from portal.scheduling.services import (
    BookingNote,
    BookingResult,
    appointment_book,
    appointment_cancel,
    slot_glance,
)

__all__ = [
    "ERRORS",
    "RED_FLAGS",
    "SYMPTOMS",
    "Appointment",
    "BookingNote",
    "BookingRefused",
    "BookingResult",
    "Clinic",
    "District",
    "Doctor",
    "Guardianship",
    "HomeVisit",
    "HomeVisitRefused",
    "Patient",
    "Referral",
    "Sight",
    "Slot",
    "Specialty",
    "VisitData",
    "appointment_book",
    "appointment_cancel",
    "appointment_get_for_user",
    "appointments_visible",
    "bookable_q",
    "patient_for_actor",
    "patient_of_user",
    "patients_actable_by",
    "referral_state",
    "referrals_visible",
    "slot_glance",
    "slot_refusal",
    "specialty_cached",
    "today",
    "visibility_for",
    "visit_create",
    "visit_get_for_user",
    "visits_visible_to",
]
