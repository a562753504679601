"""Fixtures shared by the tests that walk every URL of the site."""

import pytest
from django.utils import timezone

from portal.audit.models import AuditEvent
from tests.factories import (
    AppointmentFactory,
    DoctorFactory,
    ReferralFactory,
    SlotFactory,
    SpecialtyFactory,
)


@pytest.fixture
def world(patient, guardian, child, stranger, clerk, home_clinic):
    """One of everything a URL can point at, belonging to the guardian's family."""
    doctor = DoctorFactory(clinic=home_clinic, specialty=SpecialtyFactory(code="lor"))
    free = SlotFactory(doctor=doctor)
    appointment = AppointmentFactory(
        patient=child, booked_by=guardian, slot=SlotFactory(doctor=doctor, status="booked")
    )
    AuditEvent.objects.create(action="matrix", user=guardian, patient=child)
    entry, offer = _waitlist_of(child, guardian, doctor)
    day = timezone.localtime(free.starts_at).date()
    ballot, ballot_request = _ballot_with_request(home_clinic, guardian)
    referral = ReferralFactory(patient=child)
    visit = _home_visit(guardian, child)
    return {
        "referral_id": referral.pk,
        "visit_id": visit.pk,
        "ballot_id": ballot.pk,
        "request_id": ballot_request.pk,
        "district_id": home_clinic.district_id,
        "clinic_id": home_clinic.pk,
        "specialty_id": doctor.specialty_id,
        "doctor_id": doctor.pk,
        "day": day.isoformat(),
        "slot_id": free.pk,
        "appointment_id": appointment.pk,
        "guardianship_id": child.guardians.get().pk,
        "patient_id": child.pk,
        "entry_id": entry.pk,
        "offer_id": offer.pk,
        "reason": "underage",
        # admin converters
        "object_id": 1,
        "pk": 1,  # django-otp's admin
        "person_id": 1,  # workspace: an insured person (refused before the look-up)
        "rule_id": 1,  # workspace: a schedule rule (refused before the look-up)
        "code": "000000000000",  # workspace: a ticket code (refused before the look-up)
        "section": "clinic",  # workspace: a directory section
        "content_type_id": 1,
        "id": 1,
        "url": "nowhere/",
        "app_label": "audit",
        # FHIR: a public resource (the session personas get it like anyone)
        "kind": "Slot",
        "rid": free.pk,
        "application_id": 1,
    }


def _home_visit(guardian, child):
    """The guardian's open home-visit request for the child (docs/home-visits.md)."""
    from portal.home_visits.services import visit_create
    from tests.home_visits.conftest import valid_data

    return visit_create(actor=guardian, patient=child, data=valid_data(), ip=None)


def _ballot_with_request(clinic, guardian):
    """A ballot still collecting, with the guardian's own request in it."""
    import datetime

    from portal.release.services import ballot_open, request_make

    doctor = DoctorFactory(clinic=clinic, specialty=SpecialtyFactory(code="ballot-matrix"))
    start = timezone.now() + datetime.timedelta(days=3)
    SlotFactory(
        doctor=doctor, starts_at=start, opens_at=timezone.now() + datetime.timedelta(hours=1)
    )
    day = timezone.localtime(start).date()
    ballot = ballot_open(clinic_id=clinic.pk, specialty_id=doctor.specialty_id, day=day)
    made = request_make(
        actor=guardian, patient=guardian.patient, ballot=ballot, doctor_ids=[], times="any"
    )
    return ballot, made.request


def _waitlist_of(child, guardian, doctor):
    """The child's waitlist entry and an offer of a held time made from it."""
    from datetime import timedelta

    from portal.waitlist.models import Offer, WaitlistEntry

    today = timezone.localdate()
    entry = WaitlistEntry.objects.create(
        patient=child,
        created_by=guardian,
        clinic=doctor.clinic,
        specialty=doctor.specialty,
        date_from=today,
        date_to=today + timedelta(days=7),
        status=WaitlistEntry.Status.OFFERED,
    )
    held = SlotFactory(
        doctor=doctor, held_for=child, held_until=timezone.now() + timedelta(hours=2)
    )
    offer = Offer.objects.create(
        patient=child,
        slot=held,
        kind=Offer.Kind.WAITLIST,
        entry=entry,
        expires_at=held.held_until,
    )
    return entry, offer
