"""Issue 27: at 375 px in the version for the visually impaired, from the ESIA login to a
moved appointment — cabinet home → «Перенести» → doctor's date next week → time → moved —
with axe-core on every step and one «перенесена» message."""

import datetime
import re
import uuid

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.directory.models import Doctor
from portal.notifications.models import Kind, Message
from portal.patients.models import Patient
from portal.scheduling.models import Appointment
from portal.scheduling.services import appointment_book
from tests.esia_fixtures import esia_configure
from tests.factories import SlotFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _slot(doctor, days: int, hour: int):
    day = timezone.localdate() + datetime.timedelta(days=days)
    starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))
    return SlotFactory(
        doctor=doctor, starts_at=starts, ends_at=starts + datetime.timedelta(minutes=20)
    )


def test_anna_moves_her_appointment_to_next_week_on_a_phone_in_the_large_version(
    live_server,
    settings,
    esia_keys,
    esia_emulator_url,
    demo_region,
    page,
    use_version,
    assert_accessible,
):
    esia_configure(settings, esia_keys, esia_emulator_url, live_server.url)
    doctor = Doctor.objects.filter(
        clinic__short_name="Городская поликлиника № 1", specialty__code="therapist"
    ).first()
    assert doctor is not None
    now_slot = _slot(doctor, 1, 9)
    week_ahead = _slot(doctor, 8, 11)
    page.set_viewport_size({"width": 375, "height": 812})
    use_version("white-on-black-200")

    page.goto(live_server.url + "/cabinet/")
    page.get_by_role("link", name="Войти через ЕСИА").click()
    page.get_by_role("button", name="Иванова Анна Петровна").click()
    page.wait_for_url(live_server.url + "/cabinet/")
    anna = Patient.objects.get(last_name="Иванова", first_name="Анна")
    assert anna.user is not None  # the login made her account
    original = appointment_book(
        actor=anna.user, patient=anna, slot_id=now_slot.pk, idempotency_key=uuid.uuid4()
    ).appointment
    page.reload()
    assert_accessible(page)

    home = page.locator(".cabinet-home").first
    home.get_by_role("link", name=re.compile("^Перенести")).click()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("^Выбрать дату")).first.click()
    assert_accessible(page)
    day = timezone.localtime(week_ahead.starts_at).date()
    page.locator(f'a[href$="/{day.isoformat()}/"]').click()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("11:00")).click()
    page.get_by_role("button", name="Перенести").wait_for()
    assert_accessible(page)
    # The original still holds until the new time is hers.
    original.refresh_from_db()
    assert original.status == Appointment.Status.BOOKED
    page.get_by_role("button", name="Перенести").click()
    page.wait_for_url(re.compile(r"/appointments/\d+/$"))
    expect(page.get_by_text("Запись перенесена").first).to_be_visible()
    assert_accessible(page)

    moved = Appointment.objects.get(patient=anna, status=Appointment.Status.BOOKED)
    assert moved.slot_id == week_ahead.pk
    told = Message.objects.filter(recipient=anna, kind__in=[Kind.MOVED, Kind.CANCELLED])
    assert set(told.values_list("kind", flat=True)) == {Kind.MOVED}
    assert told.filter(channel="email").count() == 1
