"""The ticket's calendar file as independent calendar libraries read it (issue 23).

Before: the embedded VTIMEZONE was read by vobject (and Thunderbird's ical.js) as a rule
from decades ago, and a visit at 08:00 in Irkutsk showed at 07:00; there was no ORGANIZER
(RFC 5546 asks for it in PUBLISH and CANCEL) and `text/calendar` had no charset.
"""

import datetime
from zoneinfo import ZoneInfo

import pytest
import vobject
from django.urls import reverse
from icalendar import Calendar

from tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db
IRKUTSK = ZoneInfo("Asia/Irkutsk")


@pytest.fixture
def at_eight(patient):
    day = datetime.date.today() + datetime.timedelta(days=3)
    start = datetime.datetime.combine(day, datetime.time(8, 0), tzinfo=IRKUTSK)
    slot = SlotFactory(starts_at=start, ends_at=start + datetime.timedelta(minutes=20))
    return AppointmentFactory(patient=patient.patient, slot=slot)


def _download(client, patient, appointment):
    client.force_login(patient)
    return client.get(reverse("scheduling:appointment_ics", args=[appointment.pk]))


def test_every_parser_shows_the_visit_at_eight_local_time(client, patient, at_eight):
    body = _download(client, patient, at_eight).content

    by_icalendar = Calendar.from_ical(body).walk("VEVENT")[0].decoded("dtstart")
    by_vobject = vobject.readOne(body.decode()).vevent.dtstart.value

    for start in (by_icalendar, by_vobject):
        assert start.astimezone(IRKUTSK).time() == datetime.time(8, 0), start
        assert start.astimezone(IRKUTSK).date() == at_eight.starts_at.astimezone(IRKUTSK).date()


def test_the_file_names_its_organizer_charset_and_name(client, patient, at_eight):
    response = _download(client, patient, at_eight)
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]

    assert str(event["organizer"]).startswith("mailto:")
    assert event["organizer"].params["CN"] == at_eight.slot.doctor.clinic.short_name
    assert response["Content-Type"] == "text/calendar; charset=utf-8; method=PUBLISH"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"talon-{at_eight.ticket_number}.ics" in (
        disposition
    )


def test_a_cancellation_is_read_as_one_by_vobject_too(client, patient, at_eight):
    booked = vobject.readOne(_download(client, patient, at_eight).content.decode())
    client.post(reverse("scheduling:appointment_cancel", args=[at_eight.pk]))
    cancelled = vobject.readOne(_download(client, patient, at_eight).content.decode())

    assert cancelled.method.value == "CANCEL" and cancelled.vevent.status.value == "CANCELLED"
    assert cancelled.vevent.uid.value == booked.vevent.uid.value
    assert int(cancelled.vevent.sequence.value) > int(booked.vevent.sequence.value)
    assert cancelled.vevent.organizer.value == booked.vevent.organizer.value
