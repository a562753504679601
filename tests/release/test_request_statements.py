"""What a patient's first request in a ballot costs the database, counted: at a ballot's
collection every aggressive client sends it twice at once (docs/performance.md, «The
ballot's first request in narrow reads»). The count fails the test as soon as it grows.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.directory import selectors as directory
from portal.release import services
from portal.release.errors import ReleaseRefused
from portal.release.models import Ballot, BallotRequest

# BEGIN; the patient's lock with the lock timeout set in it; the ballot as it is now;
# the patient's waiting request for the specialty; her active appointments; the day's
# times; the request; its audit row; COMMIT.
POSTGRESQL = [
    "BEGIN",
    'SELECT p."user_id"',
    'SELECT "release_ballot"',
    'SELECT "release_ballotrequest"',
    "SELECT",
    'SELECT "scheduling_slot"',
    'INSERT INTO "release_ballotrequest"',
    'INSERT INTO "audit_auditevent"',
    "COMMIT",
]


def _ask(patient, ballot, times="any"):
    return services.request_make(
        actor=patient.user, patient=patient, ballot=ballot, doctor_ids=[], times=times
    )


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_first_request_costs_its_fixed_statements(patient, ballot):
    # The ballot's clinic and specialty come from the directory's cache, as on a server
    # that has served the ballot's form.
    directory.clinic_cached(ballot.clinic_id)
    directory.specialty_cached(ballot.specialty_id)
    with CaptureQueriesContext(connection) as captured:
        result = _ask(patient.patient, ballot)
    assert result.created
    sent = [q["sql"] for q in captured]
    assert len(sent) == len(POSTGRESQL), "\n".join(sent)
    for sql, start in zip(sent, POSTGRESQL, strict=True):
        assert sql.startswith(start), (start, sql)
    # The lock timeout is set in the patient lock's own statement, before its lock.
    assert "set_config('lock_timeout'" in sent[1] and "FOR UPDATE" in sent[1]


@pytest.mark.django_db(transaction=True)
def test_a_second_request_returns_the_first_and_writes_nothing(patient, ballot):
    first = _ask(patient.patient, ballot)
    again = _ask(patient.patient, ballot, times="morning")
    assert not again.created
    assert again.request.pk == first.request.pk
    assert again.request.times == "any"  # the waiting request as it was made
    assert BallotRequest.objects.filter(patient=patient.patient).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_ballot_deleted_since_the_page_was_read_is_refused_as_closed(patient, ballot):
    Ballot.objects.filter(pk=ballot.pk).delete()
    with pytest.raises(ReleaseRefused) as refused:
        _ask(patient.patient, ballot)
    assert refused.value.code == "release_closed"
    assert not BallotRequest.objects.exists()
