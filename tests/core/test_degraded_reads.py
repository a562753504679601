"""Degraded mode's routing (the replica serving read-only pages is exercised on PostgreSQL
by tests/core/test_database_hang.py::test_with_a_replica_the_read_only_pages_keep_answering…)."""

import pytest
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from portal.core import dbrouter
from portal.core.dbrouter import REPLICA, PrimaryReplicaRouter, replica_reads_everything
from portal.core.degraded import READ_ONLY_PAGES, read_only_page
from portal.identity.models import User
from portal.patients.models import Patient
from portal.scheduling.models import Appointment


def test_every_read_only_page_exists():
    for name in READ_ONLY_PAGES:
        try:
            reverse(name, kwargs=_kwargs(name))
        except NoReverseMatch as exc:  # pragma: no cover - the failure message
            raise AssertionError(f"{name} is not a URL name any more") from exc


def _kwargs(name: str) -> dict[str, int]:
    return {
        "scheduling:appointment_ticket": {"appointment_id": 1},
        "scheduling:appointment_ics": {"appointment_id": 1},
        "directory:district_detail": {"district_id": 1},
        "directory:clinic_detail": {"clinic_id": 1},
    }.get(name, {})


def test_only_gets_of_the_listed_pages_may_be_read_from_the_replica():
    rf = RequestFactory()
    assert read_only_page(rf.get("/appointments/"))
    assert read_only_page(rf.get("/districts/"))
    assert not read_only_page(rf.post("/appointments/"))
    assert not read_only_page(rf.get("/cabinet/"))
    assert not read_only_page(rf.get("/nowhere/"))


def test_in_degraded_mode_every_read_goes_to_the_replica_and_every_write_to_the_primary(
    monkeypatch,
):
    monkeypatch.setattr(dbrouter, "replica_configured", lambda: True)
    router = PrimaryReplicaRouter()
    with replica_reads_everything():
        for model in (User, Patient, Appointment):
            assert router.db_for_read(model) == REPLICA
            assert router.db_for_write(model) == "default"
    assert router.db_for_read(Patient) == "default"


@pytest.mark.django_db
def test_without_a_replica_a_page_is_not_retried(client):
    assert client.get("/districts/").status_code == 200
    assert "X-Data-Source" not in client.get("/districts/")
