"""The demo of `make run` (README, docs/waitlist.md): Анна joins for her daughter behind
two who wait, Артём cancels his appointment, and the offer arrives for the daughter."""

import datetime

import pytest
from django.utils import timezone

from portal.demo import waitlist as demo
from portal.demo.personas import birth_date, kid_by_key, persona_by_key
from portal.directory.models import Doctor
from portal.patients.models import Guardianship, Patient
from portal.scheduling.models import Appointment, ScheduleRule, Slot
from portal.scheduling.selectors import bookable_q
from portal.scheduling.services import appointment_cancel
from portal.scheduling.slot_generation import slots_generate
from portal.waitlist import selectors, services
from portal.waitlist.models import Offer, WaitlistEntry
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_the_demo_waitlist_gives_artems_cancelled_time_to_annas_daughter(
    demo_region, django_capture_on_commit_callbacks
):
    doctor = Doctor.objects.get(clinic__short_name=demo.CLINIC, specialty__code=demo.SPECIALTY)
    # Two times a day are enough to show it (the whole horizon takes long); ten days, so
    # public holidays cannot leave it without times.
    ScheduleRule.objects.create(
        doctor=doctor,
        weekdays="1234567",
        start_time=datetime.time(9),
        end_time=datetime.time(9, 40),
    )
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    slots_generate(start=tomorrow, days=10, log=lambda _: None)
    demo.load(log=lambda _: None)
    demo.load(log=lambda _: None)  # idempotent

    assert not Slot.objects.filter(bookable_q(timezone.now()), doctor=doctor).exists()
    artem = Patient.objects.get(esia_oid=persona_by_key("artem")["oid"])
    own = Appointment.objects.get(patient=artem, status="booked")
    anna = PatientFactory(last_name="Иванова", first_name="Анна", clinic=None, email="a@example.ru")
    maria_data = kid_by_key("maria")
    maria = PatientFactory(
        user=None,
        esia_oid=None,
        last_name="Иванова",
        first_name="Мария",
        birth_date=birth_date(maria_data),
        clinic=doctor.clinic,
    )
    Guardianship.objects.create(
        guardian=anna, child=maria, relation="daughter", source="esia", verified_at=timezone.now()
    )
    today = timezone.localdate()
    entry = services.entry_join(
        actor=anna.user,
        patient=maria,
        clinic_id=doctor.clinic_id,
        specialty_id=doctor.specialty_id,
        doctor_id=None,
        date_from=today,
        date_to=today + datetime.timedelta(days=14),
        times="",
        ip=None,
    )
    # The demo children wait for later dates: not ahead of her for hers (issue 27).
    assert WaitlistEntry.objects.filter(status__in=WaitlistEntry.LIVE).count() > demo.WAITING_AHEAD
    assert selectors.entry_ahead_count(entry) == 0

    assert artem.user is not None
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(actor=artem.user, appointment=own)

    offer = Offer.objects.get(status="offered")
    assert offer.patient_id == maria.pk and offer.slot_id == own.slot_id
