"""Everything the API reads or writes in other apps, in one module.

The API owns no rules: it calls the same selectors, rules and services as the pages.
Keeping every import here means a rename elsewhere is fixed in one place.
"""

from portal.directory.models import Clinic, District, Doctor, Specialty
from portal.home_visits.errors import HomeVisitRefused
from portal.home_visits.models import HomeVisit
from portal.home_visits.rules import RED_FLAGS, SYMPTOMS
from portal.home_visits.selectors import visit_get_for_user, visits_visible_to
from portal.home_visits.services import VisitData, visit_create
from portal.patients.models import Guardianship, Patient
from portal.patients.selectors import Sight, patients_actable_by, visibility_for
from portal.patients.services import patient_for_actor
from portal.scheduling.errors import ERRORS, BookingRefused
from portal.scheduling.models import Appointment, Slot
from portal.scheduling.rules import slot_refusal
from portal.scheduling.selectors import (
    appointment_get_for_user,
    appointments_visible,
    bookable_q,
)
from portal.scheduling.services import BookingResult, appointment_book, appointment_cancel

__all__ = [
    "ERRORS",
    "RED_FLAGS",
    "SYMPTOMS",
    "Appointment",
    "BookingRefused",
    "BookingResult",
    "Clinic",
    "District",
    "Doctor",
    "Guardianship",
    "HomeVisit",
    "HomeVisitRefused",
    "Patient",
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
    "patients_actable_by",
    "slot_refusal",
    "visibility_for",
    "visit_create",
    "visit_get_for_user",
    "visits_visible_to",
]
