"""Issue 27, point 2: «Перенести» reaches any date — doctor (this one or a colleague of the
specialty) → date → time, as in the wizard — and the move keeps the original until the new
time is booked."""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.scheduling import services
from portal.scheduling.models import Appointment
from tests.factories import DoctorFactory, SlotFactory, SpecialtyFactory

pytestmark = pytest.mark.django_db


def at(days: int, hour: int) -> datetime.datetime:
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def slot(doctor, days: int, hour: int):
    starts = at(days, hour)
    return SlotFactory(
        doctor=doctor, starts_at=starts, ends_at=starts + datetime.timedelta(minutes=20)
    )


@pytest.fixture
def original(patient, doctor):
    booked = slot(doctor, 1, 9)
    return services.appointment_book(
        actor=patient, patient=patient.patient, slot_id=booked.pk, idempotency_key=uuid.uuid4()
    ).appointment


def test_a_move_to_a_day_next_week_goes_doctor_date_time_confirm(client, patient, doctor, original):
    # Many nearer times, as a real week has: the first page shows only the nearest few.
    for hour in range(10, 18):
        slot(doctor, 1, hour)
    week_ahead = slot(doctor, 8, 11)
    client.force_login(patient)

    first = client.get(reverse("scheduling:appointment_reschedule", args=[original.pk]))
    days_url = reverse("scheduling:appointment_move_days", args=[original.pk, doctor.pk])
    assert days_url in first.content.decode()
    assert f"/reschedule/{week_ahead.pk}/" not in first.content.decode()

    days = client.get(days_url).content.decode()
    day = week_ahead.starts_at.astimezone(timezone.get_current_timezone()).date()
    times_url = reverse(
        "scheduling:appointment_move_times", args=[original.pk, doctor.pk, day.isoformat()]
    )
    assert times_url in days
    assert "1 свободный талон" in days

    times = client.get(times_url).content.decode()
    confirm = reverse(
        "scheduling:appointment_reschedule_confirm", args=[original.pk, week_ahead.pk]
    )
    assert confirm in times
    assert ">11:00<" in times

    page = client.get(confirm).content.decode()
    key = page.split('name="key" value="')[1].split('"')[0]
    response = client.post(confirm, {"key": key})
    moved = Appointment.objects.get(patient=patient.patient, status="booked")
    assert response.headers["Location"] == reverse("scheduling:appointment_ticket", args=[moved.pk])
    assert moved.slot_id == week_ahead.pk
    original.refresh_from_db()
    assert original.status == Appointment.Status.CANCELLED_PATIENT


def test_a_colleague_of_the_specialty_offers_his_own_dates(client, patient, doctor, original):
    colleague = DoctorFactory(clinic=doctor.clinic, specialty=doctor.specialty, last_name="Ким")
    later = slot(colleague, 9, 15)
    client.force_login(patient)
    days = client.get(
        reverse("scheduling:appointment_move_days", args=[original.pk, colleague.pk])
    ).content.decode()
    day = later.starts_at.astimezone(timezone.get_current_timezone()).date()
    assert (
        reverse(
            "scheduling:appointment_move_times", args=[original.pk, colleague.pk, day.isoformat()]
        )
        in days
    )


def test_a_doctor_of_another_specialty_or_a_bad_date_is_not_found(
    client, patient, doctor, original
):
    other = DoctorFactory(clinic=doctor.clinic, specialty=SpecialtyFactory(code="lor"))
    client.force_login(patient)
    assert (
        client.get(
            reverse("scheduling:appointment_move_days", args=[original.pk, other.pk])
        ).status_code
        == 404
    )
    bad = reverse("scheduling:appointment_move_times", args=[original.pk, doctor.pk, "2026-13-40"])
    assert client.get(bad).status_code == 404


def test_times_that_overlap_another_appointment_are_not_offered(client, patient, doctor, original):
    other_doctor = DoctorFactory(clinic=doctor.clinic, specialty=SpecialtyFactory(code="lor"))
    clash = slot(other_doctor, 8, 11)
    services.appointment_book(
        actor=patient, patient=patient.patient, slot_id=clash.pk, idempotency_key=uuid.uuid4()
    )
    free = slot(doctor, 8, 11)
    fine = slot(doctor, 8, 12)
    client.force_login(patient)
    day = free.starts_at.astimezone(timezone.get_current_timezone()).date()
    times = client.get(
        reverse("scheduling:appointment_move_times", args=[original.pk, doctor.pk, day.isoformat()])
    ).content.decode()
    assert f"/reschedule/{free.pk}/" not in times
    assert f"/reschedule/{fine.pk}/" in times


def test_nobody_else_reaches_the_dates_of_her_move(client, stranger, doctor, original):
    client.force_login(stranger)
    url = reverse("scheduling:appointment_move_days", args=[original.pk, doctor.pk])
    assert client.get(url).status_code == 404
