import datetime
import uuid

import pytest

from portal.directory.models import Specialty
from tests.factories import DoctorFactory, SlotFactory, SpecialtyFactory


@pytest.fixture
def doctor(home_clinic):
    """An ophthalmologist at the clinic every persona is attached to (direct booking, all ages)."""
    return DoctorFactory(
        clinic=home_clinic,
        specialty=SpecialtyFactory(code="ophthalmologist", name="Офтальмолог"),
        last_name="Зорина",
        first_name="Ольга",
        room="214",
    )


@pytest.fixture
def slot(doctor):
    return SlotFactory(doctor=doctor)


@pytest.fixture
def make_slot(doctor):
    def make(**kwargs):
        kwargs.setdefault("doctor", doctor)
        return SlotFactory(**kwargs)

    return make


def specialty(code: str, access: str, age_group: str) -> Specialty:
    return SpecialtyFactory(code=code, name=code, access=access, age_group=age_group)


def key() -> uuid.UUID:
    return uuid.uuid4()


def in_days(days: float, hour: int = 10) -> datetime.datetime:
    base = datetime.datetime.now(datetime.UTC).replace(minute=0, second=0, microsecond=0)
    return base.replace(hour=hour) + datetime.timedelta(days=days)
