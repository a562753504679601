"""Shared fixtures: the demo region and the fixed personas of authorization tests.

Personas for authorization tests: ``patient`` (an adult with a record, no children),
``guardian`` with ``child``, ``unverified_guardian`` (a second parent of ``child`` whose
guardianship nobody has confirmed yet), ``stranger`` (another adult), ``clerk`` of the
guardian's clinic and ``other_clerk`` of another clinic (both workspace clerks), ``head``
of the guardian's clinic and the regional ``operator``. Users are fixtures, patients are
reachable as ``<user>.patient``; ``tests/workspace/conftest.py`` logs staff in with TOTP.
"""

import functools
import os
import time
from pathlib import Path
from typing import Any

import django_ratelimit.core
import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.test import override_settings

from portal.directory.models import Clinic, District
from portal.patients.models import Guardianship
from portal.staff.models import StaffMember
from tests.factories import (
    ChildFactory,
    ClinicFactory,
    GuardianshipFactory,
    PatientFactory,
    UserFactory,
    born,
)


def pytest_configure(config: pytest.Config) -> None:
    """A pytest-xdist worker keeps its files and its cache apart from the other workers'."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and hasattr(config, "workerinput"):
        override_settings(**_worker_settings(worker)).enable()


def _worker_settings(worker: str) -> dict[str, Any]:
    """PORTAL_DATA_DIR/<worker>/ for every path setting under PORTAL_DATA_DIR, and with Redis
    a database number per worker: `cache.clear()` below is a FLUSHDB, which would wipe the
    other workers' rate-limit counters in the middle of their tests."""
    data: Path = settings.DATA_DIR
    own = data / worker
    own.mkdir(parents=True, exist_ok=True)
    changed: dict[str, Any] = {"DATA_DIR": own}
    for name in dir(settings):
        value = getattr(settings, name)
        # STATIC_ROOT stays: collectstatic's output, read and shared, never written here.
        if name == "STATIC_ROOT" or not name.isupper() or not isinstance(value, Path):
            continue
        if value.is_relative_to(data):
            changed[name] = own / value.relative_to(data)
    caches = settings.CACHES
    location = str(caches["default"].get("LOCATION", ""))
    if location.startswith("redis://"):
        base, _, number = location.rpartition("/")
        if not number.isdigit():  # redis://host:port without a database: 0
            base, number = location.rstrip("/"), "0"
        index = int(worker.removeprefix("gw") or 0)
        default = dict(caches["default"], LOCATION=f"{base}/{int(number) + index}")
        changed["CACHES"] = {**caches, "default": default}
    return changed


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Caches (rate-limit counters, the nearest-time ranking, the directory kept per
    process) never leak between tests."""
    from portal.core.templatetags.kept import kept_forget
    from portal.directory.cache import directory_forget
    from portal.scheduling.rankings import rankings_forget

    cache.clear()
    directory_forget()
    kept_forget()
    rankings_forget()
    yield
    cache.clear()
    directory_forget()
    kept_forget()
    rankings_forget()


@pytest.fixture(autouse=True)
def _slots_from_tomorrow():
    """A test's default slots start tomorrow, 20 minutes apart, wherever it runs.

    `SlotFactory` numbers its slots for the whole process: in a random-order run the
    four-hundredth slot of an xdist worker started six days ahead, outside a 7-day
    waitlist window, and a test that passed alone failed after four hundred others."""
    from tests.factories import SlotFactory

    SlotFactory.reset_sequence()


class _StoppedClock:
    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _one_rate_limit_window(monkeypatch):
    """Every request of a test falls in the same rate-limit window.

    django-ratelimit's windows end at a fixed second of the wall clock (per key), so a test
    making three requests against "2/m" failed whenever they straddled that second, which
    a loaded machine or a parallel worker makes likely. Its clock is stopped at the test's
    start; no test waits for a window to pass (they clear the cache or patch the limit).
    """
    monkeypatch.setattr(django_ratelimit.core, "time", _StoppedClock())


@pytest.fixture
def demo_region(db):
    """The demo region of `make run` (scale 1) without its slots, which cost seconds.

    Tests of the slots themselves call `load_demo` or `portal.demo.schedules` directly.
    """
    from portal.demo import directory, registry

    for step in (directory, registry):
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
        birth_date=born(62, 26),
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
def unverified_guardian(child):
    """Новиков Олег: added ``child`` by hand, the guardianship not yet confirmed by ESIA,
    a clinic or the verified guardian. He may book for the child but sees only what he
    booked himself (docs/security.md)."""
    father = PatientFactory(last_name="Новиков", first_name="Олег", middle_name="Ильич", sex="M")
    GuardianshipFactory(
        guardian=father,
        child=child,
        relation=Guardianship.Relation.DAUGHTER,
        verified_at=None,
        verified_how="",
    )
    return father.user


@pytest.fixture
def stranger(db):
    """An adult from another family: must never see the guardian's child."""
    return PatientFactory(
        last_name="Петров", first_name="Сергей", middle_name="Николаевич", sex="M"
    ).user


@functools.cache
def _password_hash(password: str) -> str:
    """Argon2id costs a good part of a second by design (on two cores, more): each persona's
    hash is made once per process, not once per test. A login still checks the password
    against a real Argon2id hash."""
    return make_password(password)


def _staff(username: str, password: str, role: str, clinic: Clinic | None):
    user = UserFactory(username=username, esia_oid=None, is_staff=True, clinic=clinic)
    user.password = _password_hash(password)
    user.save()
    StaffMember.objects.create(user=user, role=role)
    return user


@pytest.fixture
def clerk(db, home_clinic):
    return _staff("clerk", "clerk-password-1", StaffMember.Role.CLERK, home_clinic)


@pytest.fixture
def other_clerk(db):
    return _staff("other-clerk", "clerk-password-2", StaffMember.Role.CLERK, ClinicFactory())


@pytest.fixture
def head(db, home_clinic):
    """The head (заведующий) of the guardian's clinic."""
    return _staff("head", "head-password-3", StaffMember.Role.HEAD, home_clinic)


@pytest.fixture
def operator(db):
    """The regional operator: every clinic, no clinic of their own."""
    return _staff("operator", "operator-password-4", StaffMember.Role.OPERATOR, None)


# ESIA: test keys and the emulator on its own port (tests/esia_fixtures.py); how CI splits
# the suite into passes and proves that none dropped a test (tests/suite_passes.py).
pytest_plugins = ["tests.esia_fixtures", "tests.suite_passes"]
