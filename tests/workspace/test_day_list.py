"""The day list of a doctor and the attendance marks."""

import datetime

import pytest
from django.utils import timezone

from portal.audit.models import AuditAction, AuditEvent
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Appointment, Slot
from portal.scheduling.services import appointment_mark_attendance
from tests.factories import AppointmentFactory, DoctorFactory, SlotFactory


@pytest.fixture
def started(home_clinic, patient):
    """An appointment of today that began up to ten minutes ago: never yesterday's, even
    just after local midnight (CI once ran at 00:03 in Irkutsk and found no «Пришёл»)."""
    now = timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    starts = max(now - datetime.timedelta(minutes=10), midnight)
    doctor = DoctorFactory(clinic=home_clinic, last_name="Терапевтова")
    slot = SlotFactory(
        doctor=doctor,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(minutes=20),
        opens_at=starts - datetime.timedelta(days=3),
        status="booked",
    )
    return AppointmentFactory(slot=slot, patient=patient.patient)


def _day_url(appointment: Appointment) -> str:
    doctor = appointment.slot.doctor
    day = timezone.localtime(appointment.starts_at).date().isoformat()
    return f"/workspace/day/?clinic={doctor.clinic_id}&doctor={doctor.pk}&date={day}"


@pytest.mark.django_db
def test_the_day_list_shows_patient_birth_date_policy_ticket_and_status(clerk, as_staff, started):
    page = as_staff(clerk).get(_day_url(started))
    assert page.status_code == 200
    text = page.content.decode()
    patient = started.patient
    assert patient.full_name in text
    assert patient.birth_date.strftime("%d.%m.%Y") in text
    assert patient.policy_number in text
    assert started.ticket_number in text
    assert "записан" in text and "Пришёл" in text


@pytest.mark.django_db
def test_another_clinics_clerk_cannot_open_the_doctors_day(other_clerk, as_staff, started):
    response = as_staff(other_clerk).get(_day_url(started))
    # The doctor is not among their clinic's choices: the form refuses, nothing is shown.
    assert response.status_code == 400
    assert started.patient.full_name not in response.content.decode()


@pytest.mark.django_db
def test_the_operator_chooses_any_clinic_and_sees_its_day(operator, as_staff, started):
    response = as_staff(operator).get(_day_url(started))
    assert response.status_code == 200
    assert started.ticket_number in response.content.decode()


@pytest.mark.django_db
def test_the_clerk_marks_attendance_and_can_correct_it(clerk, as_staff, started):
    browser = as_staff(clerk)
    url = f"/workspace/appointments/{started.pk}/attendance/"
    response = browser.post(url, {"attended": "0"})
    assert response.status_code == 302
    started.refresh_from_db()
    assert started.status == Appointment.Status.NO_SHOW
    browser.post(url, {"attended": "1"})
    started.refresh_from_db()
    assert started.status == Appointment.Status.ATTENDED
    # The time was used: the slot is not offered to anyone again.
    assert Slot.objects.get(pk=started.slot_id).status == Slot.Status.BOOKED
    actions = list(AuditEvent.objects.filter(patient=started.patient).values_list("action", "user"))
    assert (AuditAction.APPOINTMENT_NO_SHOW, clerk.pk) in actions
    assert (AuditAction.APPOINTMENT_ATTENDED, clerk.pk) in actions


@pytest.mark.django_db
def test_another_clinics_clerk_cannot_mark_attendance(other_clerk, as_staff, started):
    response = as_staff(other_clerk).post(
        f"/workspace/appointments/{started.pk}/attendance/", {"attended": "0"}
    )
    assert response.status_code == 404
    started.refresh_from_db()
    assert started.status == Appointment.Status.BOOKED


@pytest.mark.django_db
def test_attendance_before_the_start_is_refused_with_what_to_do(clerk, as_staff, home_clinic):
    future = AppointmentFactory(slot__doctor=DoctorFactory(clinic=home_clinic))
    browser = as_staff(clerk)
    response = browser.post(
        f"/workspace/appointments/{future.pk}/attendance/", {"attended": "1"}, follow=True
    )
    assert "Приём ещё не начался" in response.content.decode()
    future.refresh_from_db()
    assert future.status == Appointment.Status.BOOKED


@pytest.mark.django_db
def test_a_cancelled_appointment_cannot_be_marked(clerk, started):
    Appointment.objects.filter(pk=started.pk).update(status=Appointment.Status.CANCELLED_PATIENT)
    with pytest.raises(BookingRefused) as refusal:
        appointment_mark_attendance(actor=clerk, appointment=started, attended=True)
    assert refusal.value.code == "attendance_not_active"
