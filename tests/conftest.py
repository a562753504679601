"""Shared fixtures: the demo region and the fixed personas of authorization tests.

Personas (every authorization test uses the same people): ``patient`` (an adult
with a record, no children), ``guardian`` with ``child``, ``stranger`` (another
adult), ``clerk`` of the guardian's clinic and ``other_clerk`` of another clinic.
Users are fixtures, patients are reachable as ``<user>.patient``.
"""

import datetime

import pytest
from django.core.cache import cache

from portal.directory.models import Clinic, District
from tests.factories import (
    ChildFactory,
    ClinicFactory,
    GuardianshipFactory,
    PatientFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Caches (rate-limit counters, the nearest-time ranking) never leak between tests."""

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo_region(db):
    """The demo region of `make run` (scale 1) without its slots, which cost seconds.

    Tests of the slots themselves call `load_demo` or the scheduling demo directly.
    """
    from portal.directory import demo as directory_demo
    from portal.patients import demo as patients_demo

    for step in (directory_demo, patients_demo):
        step.load(scale=1, log=lambda _: None)
    return District.objects.get(name="г. Иркутск")


@pytest.fixture
def irkutsk_clinic(demo_region) -> Clinic:
    return Clinic.objects.get(short_name="Городская поликлиника № 1")


@pytest.fixture
def home_clinic(db) -> Clinic:
    return ClinicFactory(short_name="Поликлиника прикрепления")


@pytest.fixture
def patient(db, home_clinic):
    """An adult citizen with no children: Соколов Николай."""
    record = PatientFactory(
        last_name="Соколов",
        first_name="Николай",
        middle_name="Андреевич",
        sex="M",
        birth_date=datetime.date(1964, 11, 5),
        clinic=home_clinic,
    )
    return record.user


@pytest.fixture
def guardian(db, home_clinic):
    """Иванова Анна, mother of ``child``."""
    return PatientFactory(clinic=home_clinic).user


@pytest.fixture
def child(guardian, home_clinic):
    kid = ChildFactory(clinic=home_clinic)
    GuardianshipFactory(guardian=guardian.patient, child=kid)
    return kid


@pytest.fixture
def stranger(db):
    """An adult from another family: must never see the guardian's child."""
    return PatientFactory(
        last_name="Петров", first_name="Сергей", middle_name="Николаевич", sex="M"
    ).user


@pytest.fixture
def clerk(db, home_clinic):
    user = UserFactory(username="clerk", esia_oid=None, is_staff=True, clinic=home_clinic)
    user.set_password("clerk-password-1")
    user.save()
    return user


@pytest.fixture
def other_clerk(db):
    user = UserFactory(username="other-clerk", esia_oid=None, is_staff=True, clinic=ClinicFactory())
    user.set_password("clerk-password-2")
    user.save()
    return user


# ESIA: test keys and the emulator on its own port (tests/esia_fixtures.py).
pytest_plugins = ["tests.esia_fixtures"]
