"""The wizard's narrow reads answer what the pages showed before them (issue 25)."""

import datetime

import pytest
from django.utils import timezone

from portal.scheduling import selectors
from tests.factories import SlotFactory

pytestmark = pytest.mark.django_db


def _local(day: datetime.date, hour: int, minute: int) -> datetime.datetime:
    return datetime.datetime.combine(
        day, datetime.time(hour, minute), tzinfo=timezone.get_current_timezone()
    )


def test_free_days_are_local_dates_counted_around_midnight(doctor):
    """Irkutsk is UTC+8: 23:40 and 00:10 local are the same UTC date but two local days."""
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    after = tomorrow + datetime.timedelta(days=1)
    for start in (_local(tomorrow, 7, 0), _local(tomorrow, 23, 40), _local(after, 0, 10)):
        SlotFactory(doctor=doctor, starts_at=start, ends_at=start + datetime.timedelta(minutes=20))
    SlotFactory(doctor=doctor, starts_at=_local(after, 9, 0), status="booked")
    assert selectors.days_list_free(doctor) == [(tomorrow, 2), (after, 1)]


def test_free_days_leave_out_what_may_not_be_booked(doctor):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    now = timezone.now()
    SlotFactory(doctor=doctor, starts_at=_local(tomorrow, 10, 0))
    SlotFactory(
        doctor=doctor, starts_at=_local(tomorrow, 11, 0), opens_at=now + datetime.timedelta(days=1)
    )
    SlotFactory(
        doctor=doctor,
        starts_at=_local(tomorrow, 12, 0),
        held_until=now + datetime.timedelta(minutes=10),
    )
    assert selectors.days_list_free(doctor) == [(tomorrow, 1)]


def test_back_on_the_confirm_page_finds_only_a_booking_the_user_may_see(
    client, guardian, child, unverified_guardian, doctor
):
    """The mother's booking for the child is hers to see; the unverified father sees only
    what he booked, so the page does not send him to her ticket."""
    from django.urls import reverse

    from portal.patients.selectors import ACTING_SESSION_KEY
    from tests.factories import AppointmentFactory

    taken = AppointmentFactory(patient=child, booked_by=guardian, slot__doctor=doctor)
    url = reverse("scheduling:booking_confirm", args=[taken.slot_id])
    for user, sent_to_ticket in ((guardian, True), (unverified_guardian, False)):
        client.force_login(user)
        session = client.session
        session[ACTING_SESSION_KEY] = child.pk
        session.save()
        response = client.get(url)
        ticket = reverse("scheduling:appointment_ticket", args=[taken.pk])
        assert (response.status_code == 302 and response["Location"] == ticket) is sent_to_ticket
