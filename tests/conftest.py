"""Shared fixtures: the demo region, fixed personas for authorization tests."""

import pytest
from django.core.management import call_command

from portal.directory.models import Clinic, District


@pytest.fixture
def demo_region(db):
    """The demo region as `make run` loads it (scale 1)."""
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return District.objects.get(name="г. Иркутск")


@pytest.fixture
def irkutsk_clinic(demo_region) -> Clinic:
    return Clinic.objects.get(short_name="Городская поликлиника № 1")
