"""«Перенести» (issue 16, item 21): a patient moves an appointment to a colleague's time
in one step, from «Мои записи», and gets the new ticket."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.scheduling.models import Appointment
from tests.factories import AppointmentFactory, DoctorFactory, SlotFactory, SpecialtyFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _slot(doctor, day, hour, minute=0, **kwargs):
    starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))
    return SlotFactory(
        doctor=doctor, starts_at=starts, ends_at=starts + datetime.timedelta(minutes=20), **kwargs
    )


def test_a_patient_moves_an_appointment_to_a_colleague_in_one_step(
    live_server, page, login_as, assert_accessible, patient, home_clinic
):
    eyes = SpecialtyFactory(code="ophthalmologist", name="Офтальмолог")
    own = DoctorFactory(clinic=home_clinic, specialty=eyes, last_name="Зорина", first_name="Ольга")
    colleague = DoctorFactory(
        clinic=home_clinic, specialty=eyes, last_name="Ким", first_name="Вера", room="301"
    )
    day = timezone.localdate() + datetime.timedelta(days=2)
    original = AppointmentFactory(slot=_slot(own, day, 9, status="booked"), patient=patient.patient)
    _slot(own, day, 11)
    target = _slot(colleague, day, 14, 20)
    login_as(patient)

    page.goto(live_server.url + "/appointments/")
    page.get_by_role("link", name=re.compile("^Перенести")).click()
    page.wait_for_url(f"**/appointments/{original.pk}/reschedule/")
    expect(page.get_by_role("heading", name=re.compile("Зорина Ольга"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Ким Вера"))).to_be_visible()
    assert_accessible(page)

    page.locator(f'a[href$="/reschedule/{target.pk}/"]').click()
    expect(page.get_by_role("heading", name="Перенести запись?")).to_be_visible()
    expect(page.get_by_text("Ким Вера").first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Перенести").click()

    page.wait_for_url(re.compile(r"/appointments/\d+/$"))
    moved = Appointment.objects.get(status="booked")
    assert moved.slot_id == target.pk
    expect(page.get_by_text("Запись перенесена")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(moved.ticket_number))).to_be_visible()
    assert_accessible(page)
    original.refresh_from_db()
    assert original.status == Appointment.Status.CANCELLED_PATIENT


def test_a_move_to_a_time_taken_meanwhile_keeps_the_original(
    live_server, page, login_as, assert_accessible, patient, stranger, home_clinic
):
    doctor = DoctorFactory(clinic=home_clinic, last_name="Зорина", first_name="Ольга")
    day = timezone.localdate() + datetime.timedelta(days=2)
    original = AppointmentFactory(
        slot=_slot(doctor, day, 9, status="booked"), patient=patient.patient
    )
    target = _slot(doctor, day, 10)
    login_as(patient)
    page.goto(live_server.url + f"/appointments/{original.pk}/")
    page.get_by_role("link", name="Перенести").click()
    page.locator(f'a[href$="/reschedule/{target.pk}/"]').click()
    # Someone else takes the time between the page and the click.
    AppointmentFactory(slot=target, patient=stranger.patient)
    target.status = "booked"
    target.save()
    page.get_by_role("button", name="Перенести").click()

    expect(page.get_by_role("alert").get_by_text("уже занято")).to_be_visible()
    expect(page.get_by_text("Прежняя запись сохранена")).to_be_visible()
    assert_accessible(page)
    original.refresh_from_db()
    assert original.status == Appointment.Status.BOOKED
