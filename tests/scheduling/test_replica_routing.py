"""The database router: searches may read the replica, bookings never do (docs/operations.md).

The replica itself is exercised by `make bench-cluster` (a real streaming replica);
here the router's choices are checked with the replica's probe stubbed, so they hold on
SQLite and PostgreSQL alike.
"""

from typing import Any

import pytest
from django.db import OperationalError, connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.core import dbrouter
from portal.core.dbrouter import (
    REPLICA,
    PrimaryReplicaRouter,
    ReplicaStatus,
    primary_reads,
    replica_reads,
    replica_reads_view,
)
from portal.directory.models import Clinic, Doctor
from portal.patients.models import Patient
from portal.scheduling.models import Appointment, Slot
from portal.scheduling.services import appointment_book
from tests.scheduling.conftest import key

router = PrimaryReplicaRouter()


@pytest.fixture
def replica(monkeypatch):
    """A configured replica whose probe answers what the test sets in ``state``."""
    state: dict[str, Any] = {"status": ReplicaStatus(True, 0.2, "streaming"), "probes": 0}

    def probe() -> ReplicaStatus:
        state["probes"] += 1
        status: ReplicaStatus = state["status"]
        return status

    monkeypatch.setattr(dbrouter, "replica_configured", lambda: True)
    monkeypatch.setattr(dbrouter, "replica_probe", probe)
    dbrouter.replica_status_reset()
    yield state
    dbrouter.replica_status_reset()


@pytest.fixture
def choices(monkeypatch):
    """Every alias the router picks for a read, while the queries still run on the primary."""
    picked: list[tuple[str, str]] = []
    real = PrimaryReplicaRouter.db_for_read

    def spy(self, model, **hints):
        alias = real(self, model, **hints)
        picked.append((model._meta.label_lower, alias))
        return "default"  # the test database has no replica: record, then read here

    monkeypatch.setattr(PrimaryReplicaRouter, "db_for_read", spy)
    return picked


def test_without_a_search_every_read_goes_to_the_primary(replica):
    for model in (Doctor, Clinic, Slot, Patient, Appointment):
        assert router.db_for_read(model) == "default"


def test_a_search_reads_the_directory_and_slots_from_the_replica(replica):
    with replica_reads():
        assert router.db_for_read(Doctor) == REPLICA
        assert router.db_for_read(Clinic) == REPLICA
        assert router.db_for_read(Slot) == REPLICA


def test_a_search_reads_the_patient_and_their_appointments_from_the_primary(replica):
    # The rules a search applies to the patient (one per specialty) read current rows.
    with replica_reads():
        assert router.db_for_read(Patient) == "default"
        assert router.db_for_read(Appointment) == "default"


def test_writes_always_go_to_the_primary(replica):
    with replica_reads():
        assert router.db_for_write(Slot) == "default"
        assert router.db_for_write(Doctor) == "default"


@pytest.mark.django_db
def test_inside_a_transaction_a_search_reads_the_primary(replica):
    with replica_reads(), transaction.atomic():
        assert router.db_for_read(Slot) == "default"


def test_a_lagging_replica_is_left_alone_and_reads_fall_back_to_the_primary(replica):
    replica["status"] = ReplicaStatus(False, 42.0, "lagging")
    with replica_reads():
        assert router.db_for_read(Slot) == "default"


def test_a_stopped_replica_is_left_alone_and_reads_fall_back_to_the_primary(replica):
    replica["status"] = ReplicaStatus(False, None, "unreachable: OperationalError")
    with replica_reads():
        assert router.db_for_read(Doctor) == "default"


@override_settings(REPLICA_CHECK_SECONDS=2.0)
def test_the_replica_is_probed_once_per_interval_and_its_recovery_is_noticed(replica):
    replica["status"] = ReplicaStatus(False, None, "unreachable")
    assert not dbrouter.replica_status(now=100.0).usable
    replica["status"] = ReplicaStatus(True, 0.1, "streaming")
    assert not dbrouter.replica_status(now=101.0).usable  # within the interval: last answer
    assert dbrouter.replica_status(now=102.5).usable
    assert replica["probes"] == 2


def test_a_failed_replica_query_switches_reads_to_the_primary_at_once(replica):
    with replica_reads():
        assert router.db_for_read(Slot) == REPLICA
    dbrouter.replica_mark_down("query failed")
    with replica_reads():
        assert router.db_for_read(Slot) == "default"


def test_primary_reads_win_inside_a_search(replica):
    with replica_reads(), primary_reads():
        assert router.db_for_read(Slot) == "default"


def _reads_of(captured, table):
    return [
        q["sql"]
        for q in captured
        if q["sql"].lstrip().upper().startswith("SELECT") and f'"{table}"' in q["sql"]
    ]


@pytest.mark.django_db
def test_a_booking_reads_nothing_from_the_replica_even_inside_a_search(
    replica, choices, patient, slot
):
    # The booking's own reads are statements on the primary's connection (`core.rows`):
    # the slot and the patient read there, and whatever else asks the router is sent
    # to the primary as well.
    with replica_reads(), CaptureQueriesContext(connection) as primary:
        result = appointment_book(
            actor=patient, patient=patient.patient, slot_id=slot.pk, idempotency_key=key()
        )
    assert result.created
    assert _reads_of(primary.captured_queries, Slot._meta.db_table)
    assert _reads_of(primary.captured_queries, Patient._meta.db_table)
    assert all(alias == "default" for _, alias in choices), choices


@pytest.mark.django_db
def test_a_taken_slot_is_refused_from_the_primary_even_inside_a_search(
    replica, choices, patient, stranger, slot
):
    # The lock-free early refusal reads outside any transaction: it must not trust a replica.
    appointment_book(actor=patient, patient=patient.patient, slot_id=slot.pk, idempotency_key=key())
    choices.clear()
    from portal.scheduling.errors import BookingRefused

    with (
        replica_reads(),
        CaptureQueriesContext(connection) as primary,
        pytest.raises(BookingRefused),
    ):
        appointment_book(
            actor=stranger, patient=stranger.patient, slot_id=slot.pk, idempotency_key=key()
        )
    assert _reads_of(primary.captured_queries, Slot._meta.db_table)
    assert all(alias == "default" for _, alias in choices), choices


# Outside a test transaction: inside one the router rightly keeps every read on the primary.
@pytest.mark.django_db(transaction=True)
def test_the_wizard_reads_free_times_from_the_replica(client, replica, choices, patient, slot):
    client.force_login(patient)
    response = client.get(reverse("scheduling:booking_days", args=[slot.doctor_id]))
    assert response.status_code == 200
    assert ("scheduling.slot", REPLICA) in choices
    assert ("patients.patient", REPLICA) not in choices
    # The directory comes from the process's cache, filled from the primary: a lagging
    # replica must not fill a new generation with rows from before the change.
    assert ("directory.doctor", "default") in choices
    assert ("directory.doctor", REPLICA) not in choices


def test_a_search_view_that_loses_the_replica_is_answered_from_the_primary(replica):
    calls: list[str] = []

    @replica_reads_view
    def view(request):
        alias = router.db_for_read(Slot)
        calls.append(alias)
        if alias == REPLICA:
            raise OperationalError("the replica went away")
        from django.http import HttpResponse

        return HttpResponse("ok")

    response = view(None)
    assert response.status_code == 200
    assert calls == [REPLICA, "default"]
    with replica_reads():
        assert router.db_for_read(Slot) == "default"  # left alone until the next probe


def test_the_replica_is_never_migrated():
    assert router.allow_migrate(REPLICA, "scheduling") is False
    assert router.allow_migrate("default", "scheduling") is True


@pytest.mark.django_db
def test_without_a_replica_the_router_costs_no_probe(monkeypatch):
    monkeypatch.setattr(dbrouter, "replica_probe", lambda: pytest.fail("probed without a replica"))
    with replica_reads():
        assert router.db_for_read(Slot) == "default"
    assert connection.vendor in {"sqlite", "postgresql"}
