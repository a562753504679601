"""What one booking costs the database, counted (docs/performance.md, «Booking: narrow
reads, fewer statements (issue 25)»): the count fails the test as soon as it grows.

Counted are round trips as Django's connection sees them (`CaptureQueriesContext`): on
PostgreSQL the lock timeout travels with the patient lock, and the claim with the
appointment's INSERT. The patient has no e-mail or phone, so no outbox rows are written:
what is counted is the booking's own work.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.scheduling.models import Appointment
from portal.scheduling.services import appointment_book
from tests.factories import PatientFactory
from tests.scheduling.conftest import key

# glance; BEGIN; lock timeout + patient lock; slot lock with its directory rows and the
# patient's appointments; claim + appointment; audit; COMMIT.
POSTGRESQL = [
    "SELECT",
    "BEGIN",
    "SELECT set_config",
    "SELECT",
    "WITH claimed",
    'INSERT INTO "audit_auditevent"',
    "COMMIT",
]
# No row locks and no lock timeout (IMMEDIATE transactions hold the database), and the
# claim and the INSERT as two statements.
SQLITE = [
    "SELECT",
    "BEGIN IMMEDIATE",
    "SELECT",
    "SELECT",
    "UPDATE",
    'INSERT INTO "scheduling_appointment"',
    'INSERT INTO "audit_auditevent"',
    "COMMIT",
]


def _statements(captured):
    return [q["sql"] for q in captured]


def _expected():
    return POSTGRESQL if connection.vendor == "postgresql" else SQLITE


@pytest.fixture
def quiet_patient(home_clinic):
    return PatientFactory(clinic=home_clinic, email="", phone="")


@pytest.mark.django_db(transaction=True)
def test_one_booking_costs_its_fixed_statements(quiet_patient, slot):
    with CaptureQueriesContext(connection) as captured:
        result = appointment_book(
            actor=quiet_patient.user, patient=quiet_patient, slot_id=slot.pk, idempotency_key=key()
        )
    assert result.created
    sent = _statements(captured)
    assert len(sent) == len(_expected()), "\n".join(sent)
    for sql, start in zip(sent, _expected(), strict=True):
        assert sql.startswith(start), (start, sql)
    # Lock 2 reads the slot, its directory rows and the patient's appointments at once.
    assert any('"directory_doctor"' in sql and '"scheduling_appointment"' in sql for sql in sent)


@pytest.mark.django_db(transaction=True)
def test_a_booking_from_the_page_reads_the_slot_once_before_its_locks(client, quiet_patient, slot):
    """The page's rate limit looks at the slot (a slot not open yet is free to ask for),
    and the booking service answers its early refusal from that same look."""
    client.force_login(quiet_patient.user)
    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            reverse("scheduling:booking_confirm", args=[slot.pk]), {"key": str(key())}
        )
    assert response.status_code == 302
    sent = _statements(captured)
    before_locks = sent[: next(i for i, sql in enumerate(sent) if 'patients_patient" p' in sql)]
    glances = [sql for sql in before_locks if 'FROM "scheduling_slot"' in sql]
    assert len(glances) == 1, glances
    assert Appointment.objects.filter(slot=slot, status="booked").count() == 1
