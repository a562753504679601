"""The benchmarks' database floor writes appointments with raw SQL: it must keep fitting
the schema. A new NOT NULL column without a database default once broke `make bench`
mid-run (pgbench: null value in column "comment"), which no other test noticed."""

import psycopg
import pytest
from django.db import connection

from bench.dbfloor import Job, book_raw
from portal.scheduling.models import Appointment
from tests.factories import SlotFactory

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_the_floors_raw_booking_fits_todays_schema(patient):
    if connection.vendor != "postgresql":
        pytest.skip("the floor is PostgreSQL's")
    slot = SlotFactory()
    params = connection.settings_dict
    with psycopg.connect(
        dbname=params["NAME"],
        user=params["USER"],
        password=params["PASSWORD"] or None,
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        autocommit=True,
        cursor_factory=psycopg.ClientCursor,
    ) as raw:
        assert book_raw(
            raw, Job(user_id=patient.pk, patient_id=patient.patient.pk, slot_id=slot.pk)
        )
        # Like for like with the booking: each of its statements prepared on the server.
        prepared = [r[0] for r in raw.execute("SELECT statement FROM pg_prepared_statements")]
        assert len(prepared) == 5, prepared

    booked = Appointment.objects.get(slot=slot)
    assert (booked.status, booked.comment, booked.reason) == ("booked", "", "")
