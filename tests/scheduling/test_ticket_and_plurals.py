"""Issue 16, items 8 and 12: a cancelled ticket and its .ics say so; counts read as Russian."""

import datetime

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from portal.scheduling.models import Appointment
from tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_patient(client, patient):
    client.force_login(patient)
    return client


def _event(client, appointment):
    response = client.get(reverse("scheduling:appointment_ics", args=[appointment.pk]))
    calendar = Calendar.from_ical(response.content)
    return calendar, calendar.walk("VEVENT")[0]


def test_the_calendar_event_says_for_which_patient(client, guardian, child):
    appointment = AppointmentFactory(patient=child, booked_by=guardian)
    client.force_login(guardian)
    calendar, event = _event(client, appointment)
    assert str(event["summary"]) == f"Приём: {appointment.specialty.name} — Иванова М.И."
    assert str(event["status"]) == "CONFIRMED"
    assert str(calendar["method"]) == "PUBLISH"


def test_a_cancelled_appointments_ics_cancels_the_event(as_patient, patient):
    appointment = AppointmentFactory(patient=patient.patient)
    _, booked = _event(as_patient, appointment)
    as_patient.post(reverse("scheduling:appointment_cancel", args=[appointment.pk]))
    calendar, event = _event(as_patient, appointment)
    assert str(calendar["method"]) == "CANCEL"
    assert str(event["status"]) == "CANCELLED"
    # Same event (UID), newer version: the calendar replaces it instead of adding one.
    assert event["uid"] == booked["uid"]
    assert event.decoded("sequence") > booked.decoded("sequence")


def test_a_cancelled_ticket_says_so_without_qr_or_calendar_button(as_patient, patient):
    appointment = AppointmentFactory(patient=patient.patient)
    url = reverse("scheduling:appointment_ticket", args=[appointment.pk])
    active = as_patient.get(url).content.decode()
    assert "<svg" in active and "Добавить в календарь" in active
    appointment.status = Appointment.Status.CANCELLED_CLINIC
    appointment.save(update_fields=["status"])
    page = as_patient.get(url).content.decode()
    assert "Запись отменена" in page
    assert "<svg" not in page
    assert "Добавить в календарь" not in page
    assert "Отменить запись" not in page


def test_the_ticket_the_list_and_the_cabinet_keep_each_number_by_its_sign(as_patient, patient):
    # Issue 27, point 8: a phone must not break «Талон на приём №» from «0345».
    appointment = AppointmentFactory(
        patient=patient.patient, slot__doctor__clinic__short_name="Детская поликлиника № 3"
    )
    ticket = reverse("scheduling:appointment_ticket", args=[appointment.pk])
    pages = {
        "ticket": as_patient.get(ticket).content.decode(),
        "list": as_patient.get(reverse("scheduling:appointment_list")).content.decode(),
        "cabinet": as_patient.get(reverse("identity:cabinet")).content.decode(),
    }
    assert f"Талон на приём №\u00a0{appointment.ticket_number}" in pages["ticket"]
    for name, page in pages.items():
        assert "Детская поликлиника №\u00a03" in page, name
        assert "№ " not in page, name


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (1, "1 свободный талон"),
        (2, "2 свободных талона"),
        (4, "4 свободных талона"),
        (5, "5 свободных талонов"),
        (11, "11 свободных талонов"),
        (18, "18 свободных талонов"),
        (21, "21 свободный талон"),
        (22, "22 свободных талона"),
    ],
)
def test_free_ticket_counts_use_the_three_russian_plural_forms(count, text):
    template = Template(
        "{% load i18n %}{% blocktranslate count counter=n %}{{ counter }} свободный талон"
        "{% plural %}{{ counter }} свободных талонов{% endblocktranslate %}"
    )
    assert template.render(Context({"n": count})) == text


def test_the_days_page_shows_natural_counts(as_patient, doctor):
    day = timezone.localdate() + datetime.timedelta(days=2)
    for minutes in (0, 20):
        starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, minutes)))
        SlotFactory(
            doctor=doctor, starts_at=starts, ends_at=starts + datetime.timedelta(minutes=20)
        )
    page = as_patient.get(reverse("scheduling:booking_days", args=[doctor.pk])).content.decode()
    assert "2 свободных талона" in page
    assert "свободных времён" not in page


def test_ages_agree_with_their_numbers():
    child_page = Template(
        "{% load i18n %}{% blocktranslate count age=a %}Уже исполнился {{ age }} год: записать"
        " к врачу из вашего кабинета нельзя. Теперь ребёнок может сам зарегистрироваться на"
        " портале Госуслуг и записываться к врачу. История записей сохранена.{% plural %}Уже"
        " исполнилось {{ age }} лет: записать к врачу из вашего кабинета нельзя. Теперь"
        " ребёнок может сам зарегистрироваться на портале Госуслуг и записываться к врачу."
        " История записей сохранена.{% endblocktranslate %}"
    )
    assert child_page.render(Context({"a": 14})).startswith("Уже исполнилось 14 лет")
    assert child_page.render(Context({"a": 21})).startswith("Уже исполнился 21 год")
    assert child_page.render(Context({"a": 22})).startswith("Уже исполнилось 22 года")
