"""The waitlist's fixtures: one clinic's ophthalmologists, every persona attached there."""

import datetime

import pytest
from django.utils import timezone

from portal.waitlist import services
from tests.factories import DoctorFactory, SlotFactory, SpecialtyFactory


@pytest.fixture(autouse=True)
def _reachable(guardian, patient, settings):
    """The personas have e-mail addresses, so offers reach them (no SMSC in these tests)."""
    settings.SMPP_HOST = ""
    for user, address in ((guardian, "anna@example.ru"), (patient, "nikolay@example.ru")):
        user.patient.email = address
        user.patient.save(update_fields=["email"])


@pytest.fixture
def specialty(db):
    return SpecialtyFactory(code="ophthalmologist", name="Офтальмолог")


@pytest.fixture
def doctor(home_clinic, specialty):
    return DoctorFactory(
        clinic=home_clinic, specialty=specialty, last_name="Зорина", first_name="Ольга"
    )


@pytest.fixture
def colleague(home_clinic, specialty):
    return DoctorFactory(
        clinic=home_clinic, specialty=specialty, last_name="Лебедев", first_name="Игорь"
    )


def at(days: int, hour: int) -> datetime.datetime:
    """A local time ``days`` from today at ``hour``:00 (the region's time zone)."""
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def make_slot(doctor):
    def make(days: int = 2, hour: int = 10, **kwargs):
        kwargs.setdefault("doctor", doctor)
        start = at(days, hour)
        return SlotFactory(
            starts_at=start, ends_at=start + datetime.timedelta(minutes=20), **kwargs
        )

    return make


@pytest.fixture
def join():
    """Put a patient on the ophthalmologist's waitlist for the next week, any time."""

    def do(user, patient, doctor, **kwargs):
        today = timezone.localdate()
        params = {
            "actor": user,
            "patient": patient,
            "clinic_id": doctor.clinic_id,
            "specialty_id": doctor.specialty_id,
            "doctor_id": None,
            "date_from": today,
            "date_to": today + datetime.timedelta(days=7),
            "times": "",
            "ip": "127.0.0.1",
        }
        params.update(kwargs)
        return services.entry_join(**params)

    return do
