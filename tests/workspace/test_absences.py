"""An absence blocks the doctor's free time and cancels every booking in it, whole or not at all."""

import datetime

import pytest
from django.utils import timezone

from portal.audit.models import AuditAction, AuditEvent
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Absence, Appointment, Slot
from portal.scheduling.services import absence_record
from tests.factories import AppointmentFactory, DoctorFactory, PatientFactory, SlotFactory


def _slot_on(doctor, day: datetime.date, hour: int, status: str = "free") -> Slot:
    tz = timezone.get_current_timezone()
    starts = datetime.datetime.combine(day, datetime.time(hour, 0), tzinfo=tz)
    return SlotFactory(
        doctor=doctor,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(minutes=20),
        opens_at=starts - datetime.timedelta(days=14),
        status=status,
    )


@pytest.fixture
def week(home_clinic):
    """A doctor with, over the next days, two booked appointments and two free slots."""
    doctor = DoctorFactory(clinic=home_clinic)
    start = timezone.localdate() + datetime.timedelta(days=2)
    booked = [
        AppointmentFactory(slot=_slot_on(doctor, start, 9, "booked"), patient=PatientFactory()),
        AppointmentFactory(
            slot=_slot_on(doctor, start + datetime.timedelta(days=1), 9, "booked"),
            patient=PatientFactory(),
        ),
    ]
    free = [_slot_on(doctor, start, 10), _slot_on(doctor, start + datetime.timedelta(days=1), 10)]
    outside = _slot_on(doctor, start + datetime.timedelta(days=5), 10)
    return {"doctor": doctor, "start": start, "booked": booked, "free": free, "outside": outside}


@pytest.mark.django_db
def test_an_absence_cancels_every_booking_and_blocks_free_time(clerk, week):
    result = absence_record(
        actor=clerk,
        doctor=week["doctor"],
        kind=Absence.Kind.SICK,
        starts_on=week["start"],
        ends_on=week["start"] + datetime.timedelta(days=1),
        reason="Врач заболел",
    )
    assert len(result.cancelled) == 2 and result.blocked == 2
    for appointment in week["booked"]:
        appointment.refresh_from_db()
        assert appointment.status == Appointment.Status.CANCELLED_CLINIC
        assert appointment.cancel_reason == "Врач заболел"
        assert Slot.objects.get(pk=appointment.slot_id).status == Slot.Status.BLOCKED
        assert AuditEvent.objects.filter(
            action=AuditAction.APPOINTMENT_CANCELLED_BY_CLINIC,
            patient=appointment.patient,
            user=clerk,
        ).exists()
    assert all(Slot.objects.get(pk=s.pk).status == Slot.Status.BLOCKED for s in week["free"])
    assert Slot.objects.get(pk=week["outside"].pk).status == Slot.Status.FREE


@pytest.mark.django_db
def test_another_clinics_clerk_cannot_record_an_absence(other_clerk, week):
    with pytest.raises(BookingRefused) as refusal:
        absence_record(
            actor=other_clerk,
            doctor=week["doctor"],
            kind=Absence.Kind.SICK,
            starts_on=week["start"],
            ends_on=week["start"],
            reason="x",
        )
    assert refusal.value.code == "clinic_cancel_foreign"
    assert not Absence.objects.exists()


@pytest.mark.django_db
def test_a_failure_midway_leaves_no_trace(clerk, week, monkeypatch):
    from portal.scheduling import cancellation, clinic_wide

    real = cancellation.cancel_locked
    calls = []

    def fail_on_second(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(**kwargs)

    monkeypatch.setattr(clinic_wide, "cancel_locked", fail_on_second)
    with pytest.raises(RuntimeError):
        absence_record(
            actor=clerk,
            doctor=week["doctor"],
            kind=Absence.Kind.SICK,
            starts_on=week["start"],
            ends_on=week["start"] + datetime.timedelta(days=1),
            reason="Врач заболел",
        )
    assert not Absence.objects.exists()
    assert all(
        Appointment.objects.get(pk=a.pk).status == Appointment.Status.BOOKED for a in week["booked"]
    )
    assert all(Slot.objects.get(pk=s.pk).status == Slot.Status.FREE for s in week["free"])


@pytest.mark.django_db
def test_the_clerk_sees_who_is_affected_before_confirming(clerk, as_staff, week):
    browser = as_staff(clerk)
    data = {
        "doctor": week["doctor"].pk,
        "kind": "training",
        "starts_on": week["start"].isoformat(),
        "ends_on": (week["start"] + datetime.timedelta(days=1)).isoformat(),
        "reason": "",
    }
    preview = browser.post("/workspace/absences/new/", data)
    text = preview.content.decode()
    assert preview.status_code == 200
    assert "Что изменится" in text
    for appointment in week["booked"]:
        assert appointment.ticket_number in text
    assert Appointment.objects.filter(status=Appointment.Status.BOOKED).count() == 2

    done = browser.post("/workspace/absences/new/", data | {"confirm": "1"}, follow=True)
    assert "Отсутствие записано" in done.content.decode()
    assert Appointment.objects.filter(status=Appointment.Status.CANCELLED_CLINIC).count() == 2
    assert Appointment.objects.filter(cancel_reason="Врач на обучении").count() == 2


@pytest.mark.django_db
def test_an_end_before_the_start_is_refused_with_what_to_do(clerk, as_staff, week):
    response = as_staff(clerk).post(
        "/workspace/absences/new/",
        {
            "doctor": week["doctor"].pk,
            "kind": "sick",
            "starts_on": week["start"].isoformat(),
            "ends_on": (week["start"] - datetime.timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 400
    assert "Дата окончания раньше даты начала" in response.content.decode()


@pytest.mark.django_db
def test_the_patient_sees_the_cancellation_in_my_appointments(clerk, week):
    appointment = week["booked"][0]
    absence_record(
        actor=clerk,
        doctor=week["doctor"],
        kind=Absence.Kind.SICK,
        starts_on=week["start"],
        ends_on=week["start"],
        reason="Врач заболел",
    )
    from django.test import Client

    browser = Client()
    browser.force_login(appointment.patient.user)
    page = browser.get("/appointments/").content.decode()
    assert "отменена поликлиникой" in page.lower() or "отменена медицинской" in page.lower()
