"""«Мои записи»: which appointments are listed where, and in what order."""

import datetime

import pytest
from django.urls import reverse

from portal.scheduling.appointment_lists import HISTORY_SHOWN, appointments_list_for_user
from portal.scheduling.models import Appointment, Slot
from tests.factories import AppointmentFactory, DoctorFactory
from tests.scheduling.conftest import specialty

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _appointment(patient, days: int, status: str = "booked", name: str = "") -> Appointment:
    """An appointment of ``patient`` starting ``days`` from its slot's default (tomorrow)."""
    doctor = DoctorFactory(specialty=specialty(name or f"lists-{status}-{days}", "direct", "all"))
    made = AppointmentFactory(patient=patient.patient, slot__doctor=doctor, status=status)
    shift = days * DAY
    Slot.objects.filter(pk=made.slot_id).update(
        starts_at=made.starts_at + shift, ends_at=made.ends_at + shift
    )
    Appointment.objects.filter(pk=made.pk).update(
        starts_at=made.starts_at + shift, ends_at=made.ends_at + shift
    )
    return made


def test_upcoming_soonest_first_and_the_history_latest_first_at_most_fifty(patient):
    later = _appointment(patient, 3)
    sooner = _appointment(patient, 1)
    cancelled_ahead = _appointment(patient, 2, status="cancelled")
    past = [_appointment(patient, -d, status="attended") for d in range(2, HISTORY_SHOWN + 7)]

    lists = appointments_list_for_user(patient)
    upcoming, history = lists.upcoming, lists.history

    assert [a.pk for a in upcoming] == [sooner.pk, later.pk]
    # A cancelled time still ahead is history, and the latest of it comes first.
    expected = [cancelled_ahead.pk, *(a.pk for a in past)][:HISTORY_SHOWN]
    assert [a.pk for a in history] == expected
    assert upcoming[0].slot.doctor.full_name and history[0].specialty is not None


def test_the_page_shows_both_lists(client, patient):
    ahead = _appointment(patient, 1, name="Аллерголог-иммунолог")
    _appointment(patient, -5, status="attended", name="Кардиолог")
    client.force_login(patient)
    page = client.get(reverse("scheduling:appointment_list")).content.decode()
    assert "Аллерголог-иммунолог" in page and "Кардиолог" in page
    assert page.index("Аллерголог-иммунолог") < page.index("Кардиолог")
    assert ahead.ticket_number in page or ahead.slot.doctor.last_name in page
