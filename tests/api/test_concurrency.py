"""The booking race through the API, on PostgreSQL with real threads (docs/concurrency.md:
a race is proven real, then prevented).

Each thread is a different app user with its own token and its own connection,
POSTing an Appointment for the same slot at the same moment.
"""

import datetime
import json
import secrets
import threading
from collections import Counter

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from portal.api.services import client_register
from portal.scheduling import booking as booking_service
from portal.scheduling.models import Appointment
from tests.api.conftest import FHIR, booking
from tests.factories import DoctorFactory, PatientFactory, SlotFactory, SpecialtyFactory

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(settings):
    if connection.vendor != "postgresql":
        pytest.skip("real row locks need PostgreSQL")
    settings.RATELIMIT_ENABLE = False
    # On a loaded 2-core machine a lock may be held for seconds: measure the locking,
    # not the "busy" timeout (tested in tests/scheduling).
    settings.SCHEDULING_LOCK_TIMEOUT_MS = 60_000


def _token(user, app) -> str:
    return AccessToken.objects.create(
        user=user,
        application=app,
        token=secrets.token_urlsafe(30),
        scope="patient/Patient.r patient/Appointment.rs patient/Appointment.cu",
        expires=timezone.now() + datetime.timedelta(hours=1),
        resource=[FHIR],
    ).token


def post_all_at_once(requests: list[tuple[str, dict]]) -> Counter:
    """POST every (token, body) at the same moment; count the HTTP statuses."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int | str] = []
    lock = threading.Lock()

    def worker(token: str, body: dict) -> None:
        try:
            client = Client()
            barrier.wait()
            response = client.post(
                "/fhir/Appointment",
                json.dumps(body),
                content_type="application/fhir+json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
            outcome: int | str = response.status_code
        except Exception as exc:  # an escaping exception fails the assertion below
            outcome = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            statuses.append(outcome)

    threads = [threading.Thread(target=worker, args=pair) for pair in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return Counter(statuses)


def test_fifty_apps_racing_for_one_slot_book_it_once():
    app = client_register(name="race", redirect_uris=["https://app.example/cb"])
    slot = SlotFactory()
    patients = [PatientFactory(clinic=slot.doctor.clinic) for _ in range(50)]
    statuses = post_all_at_once([(_token(p.user, app), booking(slot.pk, p.pk)) for p in patients])
    assert statuses == Counter({201: 1, 409: 49})
    assert Appointment.objects.filter(slot=slot, status="booked").count() == 1


def test_control_without_the_patient_lock_the_api_books_one_specialty_twice(monkeypatch):
    """Protection off (as in tests/scheduling/test_concurrency.py): both requests pass the
    rule check before either writes, and the patient gets two appointments in one
    specialty. The race through the API is real; the lock is what stops it."""
    app = client_register(name="race", redirect_uris=["https://app.example/cb"])
    doctor = DoctorFactory(specialty=SpecialtyFactory())
    first, second = SlotFactory(doctor=doctor), SlotFactory(doctor=doctor)
    patient = PatientFactory(clinic=doctor.clinic)
    both_checked = threading.Barrier(2)
    real_check = booking_service._check

    def check_then_wait(*args):
        real_check(*args)
        both_checked.wait(timeout=60)

    monkeypatch.setattr(booking_service, "patient_lock_fresh", lambda patient, **how: patient)
    monkeypatch.setattr(booking_service, "_check", check_then_wait)
    token = _token(patient.user, app)
    statuses = post_all_at_once(
        [(token, booking(first.pk, patient.pk)), (token, booking(second.pk, patient.pk))]
    )
    assert statuses == Counter({201: 2})
    assert Appointment.objects.filter(patient=patient, status="booked").count() == 2


def test_with_the_lock_the_same_two_requests_book_once():
    app = client_register(name="race", redirect_uris=["https://app.example/cb"])
    doctor = DoctorFactory(specialty=SpecialtyFactory())
    first, second = SlotFactory(doctor=doctor), SlotFactory(doctor=doctor)
    patient = PatientFactory(clinic=doctor.clinic)
    token = _token(patient.user, app)
    statuses = post_all_at_once(
        [(token, booking(first.pk, patient.pk)), (token, booking(second.pk, patient.pk))]
    )
    assert statuses == Counter({201: 1, 422: 1})
