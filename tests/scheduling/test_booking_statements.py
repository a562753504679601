"""What one booking costs the database, counted (docs/performance.md, «Booking: narrow
reads, fewer statements (issue 25)»): the count fails the test as soon as it grows.

Counted are round trips as Django's connection sees them (`CaptureQueriesContext`): on
PostgreSQL the lock timeout is set in the patient lock's statement, and the claim travels
with the appointment's INSERT. There every statement but BEGIN and COMMIT is prepared on
the server once per connection (docs/performance.md, «The booking's statements
prepared»). The patient has no e-mail or phone, so no outbox rows are written:
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

# glance; BEGIN; patient lock with the lock timeout set in it; slot lock with its
# directory rows and the patient's appointments; claim + appointment; audit; COMMIT.
POSTGRESQL = [
    "SELECT",
    "BEGIN",
    'SELECT p."user_id"',
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
    if connection.vendor == "postgresql":
        # The lock timeout is set in the patient lock's own statement, before its lock.
        assert "set_config('lock_timeout'" in sent[2] and "FOR UPDATE" in sent[2]
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


def _prepared_on_server() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def _booking_prepared(statements: list[str]) -> bool:
    """The booking's fixed statements are among the connection's prepared ones."""
    wanted = ["set_config('lock_timeout'", "FOR UPDATE OF", "WITH claimed", '"audit_auditevent"']
    return all(any(part in sql for sql in statements) for part in wanted)


@pytest.mark.postgres_only  # prepared statements are PostgreSQL's
@pytest.mark.django_db(transaction=True)
def test_a_booking_after_a_rolled_back_one_is_prepared_again_and_goes_through(
    home_clinic, make_slot, settings
):
    """psycopg forgets (DEALLOCATE ALL) every prepared statement of a connection when a
    transaction rolls back: a booking refused under the locks, or one that waited past
    the lock timeout, rolls back; the next booking on the same connection must prepare
    its statements again and book, not fail on a statement the server no longer has."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    from portal.scheduling.errors import BookingRefused
    from portal.scheduling.models import Slot
    from tests.races import row_held

    settings.SCHEDULING_LOCK_TIMEOUT_MS = 200
    patient = PatientFactory(clinic=home_clinic)
    first, second, third = make_slot(), make_slot(), make_slot()

    def book(slot_id):
        return appointment_book(
            actor=patient.user, patient=patient, slot_id=slot_id, idempotency_key=key()
        )

    assert book(first.pk).created
    assert _booking_prepared(_prepared_on_server())
    # Under the locks: one per specialty (the first booking). Rolled back.
    with pytest.raises(BookingRefused) as refused:
        book(second.pk)
    assert refused.value.code == "same_specialty"
    Appointment.objects.filter(slot=first).update(status="cancelled_patient")
    Slot.objects.filter(pk=first.pk).update(status="free")
    # The slot held by another transaction past the lock timeout: «busy», rolled back.
    with row_held(Slot, second.pk), pytest.raises(BookingRefused) as busy:
        book(second.pk)
    assert busy.value.code == "busy"
    assert book(third.pk).created
    assert _booking_prepared(_prepared_on_server())
    assert Appointment.objects.filter(patient=patient, status="booked").count() == 1
