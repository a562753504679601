"""The registry window: a ticket typed on either layout or scanned opens the appointment;
«Пришёл» on the day, then attended / no-show as before."""

import datetime

import pytest
from django.utils import timezone

from portal.audit.models import AuditAction, AuditEvent
from portal.scheduling.documents import ticket_payload
from tests.factories import AppointmentFactory, DoctorFactory, SlotFactory

LEGACY = "4К7Н0ТРЕ2С"


def _appointment(patient, clinic, *, starts_in: datetime.timedelta, ticket: str):
    now = timezone.now().replace(second=0, microsecond=0)
    slot = SlotFactory(
        doctor=DoctorFactory(clinic=clinic),
        starts_at=now + starts_in,
        ends_at=now + starts_in + datetime.timedelta(minutes=20),
        status="booked",
    )
    return AppointmentFactory(
        patient=patient.patient, booked_by=patient, slot=slot, ticket_number=ticket
    )


@pytest.fixture
def today(patient, home_clinic):
    """An appointment later today, unless the test runs in the region's last minutes."""
    local_now = timezone.localtime()
    left = (
        datetime.datetime.combine(
            local_now.date() + datetime.timedelta(days=1), datetime.time.min, local_now.tzinfo
        )
        - local_now
    )
    starts_in = min(datetime.timedelta(minutes=5), left / 2)
    return _appointment(patient, home_clinic, starts_in=starts_in, ticket="123456789012")


@pytest.fixture
def old_ticket(patient, home_clinic):
    return _appointment(patient, home_clinic, starts_in=datetime.timedelta(days=2), ticket=LEGACY)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed",
    [
        "4К7Н0ТРЕ2С",  # as printed
        "4K7H0TPE2C",  # Latin look-alikes
        "4R7Y0NHT2C",  # the Cyrillic letters' keys with the Latin layout on
        "4к7н0тре2с",  # lower case
        "http://127.0.0.1:8000/workspace/ticket/4K7H0TPE2C/",  # a scanner, Latin layout
        "реезЖ..127ю0ю0ю1Ж8000.цщклызфсу.ешслуе.4Л7Р0ЕЗУ2С.",  # a scanner, Russian layout
    ],
)
def test_one_field_opens_an_old_ticket_however_it_was_typed(clerk, as_staff, old_ticket, typed):
    response = as_staff(clerk).get("/workspace/window/", {"code": typed})
    assert response.status_code == 302
    assert response.url == f"/workspace/appointments/{old_ticket.pk}/"


@pytest.mark.django_db
def test_the_qr_address_opens_the_appointment_for_the_clinic_only(
    clerk, other_clerk, as_staff, old_ticket
):
    path = ticket_payload(old_ticket).split(":8000", 1)[1]
    assert path.isascii()
    response = as_staff(clerk).get(path)
    assert response.status_code == 302
    assert response.url == f"/workspace/appointments/{old_ticket.pk}/"
    assert as_staff(other_clerk).get(path).status_code == 404
    other = as_staff(other_clerk).get("/workspace/window/", {"code": LEGACY})
    assert "Талон не найден" in other.content.decode()


@pytest.mark.django_db
def test_arrived_on_the_day_then_attended(clerk, as_staff, today):
    browser = as_staff(clerk)
    page = browser.get(f"/workspace/appointments/{today.pk}/").content.decode()
    assert "Пришёл" in page
    assert browser.post(f"/workspace/appointments/{today.pk}/arrived/").status_code == 302
    browser.post(f"/workspace/appointments/{today.pk}/arrived/")  # a double click
    today.refresh_from_db()
    assert today.arrived_at is not None and today.status == "booked"
    assert AuditEvent.objects.filter(action=AuditAction.APPOINTMENT_ARRIVED).count() == 1
    page = browser.get(f"/workspace/appointments/{today.pk}/").content.decode()
    assert "пришёл в" in page


@pytest.mark.django_db
def test_arrival_is_refused_on_another_day(clerk, as_staff, old_ticket):
    browser = as_staff(clerk)
    response = browser.post(f"/workspace/appointments/{old_ticket.pk}/arrived/", follow=True)
    assert "только в день приёма" in response.content.decode()
    old_ticket.refresh_from_db()
    assert old_ticket.arrived_at is None


@pytest.mark.django_db
def test_a_cancelled_appointment_cannot_be_checked_in(clerk, as_staff, today):
    today.status = "cancelled_patient"
    today.save(update_fields=["status"])
    response = as_staff(clerk).post(f"/workspace/appointments/{today.pk}/arrived/", follow=True)
    assert "отменена" in response.content.decode()
    today.refresh_from_db()
    assert today.arrived_at is None
