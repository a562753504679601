import datetime

import pytest
from django.utils import timezone

from portal.directory.models import Specialty
from tests.api.conftest import app, fhir, token_for  # noqa: F401  (the API's fixtures)
from tests.factories import DoctorFactory, ReferralFactory, SlotFactory, SpecialtyFactory


@pytest.fixture
def neuro():
    """A referral-only specialty for every age."""
    return SpecialtyFactory(
        code="neuro-ref", name="Невролог", access=Specialty.Access.REFERRAL, age_group="all"
    )


@pytest.fixture
def neurologist(home_clinic, neuro):
    return DoctorFactory(clinic=home_clinic, specialty=neuro, last_name="Нервина")


@pytest.fixture
def neuro_slot(neurologist):
    return SlotFactory(doctor=neurologist)


@pytest.fixture
def make_referral(neuro):
    def make(patient, **kwargs):
        kwargs.setdefault("specialty", neuro)
        return ReferralFactory(patient=patient, **kwargs)

    return make


def days_from_today(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


@pytest.fixture
def as_staff():
    from tests.workspace.conftest import verified_client

    return verified_client
