"""Real races of home visits on PostgreSQL: threads, one connection each
(docs/home-visits.md, «Two at once»). Each protection has a control that switches the
row lock off and shows the race is real."""

import threading

import pytest
from django.db import connection

from portal.home_visits import locks, services
from portal.home_visits.models import HomeVisit
from tests.home_visits.conftest import valid_data
from tests.races import run_at_once

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real row locks need PostgreSQL")


@pytest.fixture
def visit(guardian, child):
    return services.visit_create(actor=guardian, patient=child, data=valid_data(), ip=None)


def accept(user, visit_id):
    return lambda: services.visit_accept(actor=user, visit_id=visit_id, ip=None)


def cancel(user, visit_id):
    return lambda: services.visit_cancel_by_applicant(actor=user, visit_id=visit_id, ip=None)


@pytest.fixture
def without_the_lock(monkeypatch):
    """The control: read the request without a lock, and let both readers read before
    either writes, as two requests a moment apart would without the lock."""
    both_read = threading.Barrier(2)

    def unlocked(visit_id):
        row = HomeVisit.objects.select_related("patient", "clinic", "handled_by").get(pk=visit_id)
        both_read.wait(timeout=10)
        return row

    monkeypatch.setattr(locks, "visit_lock", unlocked)


def test_two_clerks_accepting_at_once_one_wins_the_other_hears_who(visit, clerk, head):
    outcomes = run_at_once([accept(clerk, visit.pk), accept(head, visit.pk)], success="ok")
    assert sorted(outcomes) == ["ok", "taken"]
    visit.refresh_from_db()
    assert visit.state == "accepted"
    assert HomeVisit.objects.filter(pk=visit.pk).count() == 1


def test_control_without_the_lock_both_clerks_accept(visit, clerk, head, without_the_lock):
    outcomes = run_at_once([accept(clerk, visit.pk), accept(head, visit.pk)], success="ok")
    assert outcomes == ["ok", "ok"]  # each believes it took the call: the race is real


def test_the_patient_cancelling_while_a_clerk_accepts_one_of_them_wins(visit, guardian, clerk):
    outcomes = run_at_once([accept(clerk, visit.pk), cancel(guardian, visit.pk)], success="ok")
    visit.refresh_from_db()
    # The patient was told «cancelled», so the request is cancelled whatever the order.
    assert visit.state == "cancelled"
    if visit.handled_by is None:
        # The cancel came first; the clerk was told the request is closed.
        assert sorted(outcomes) == ["not_open", "ok"]
    else:
        # The accept came first; the cancel went through on the accepted request (a
        # patient may cancel until the doctor is on the way), and the clerk sees it.
        assert outcomes == ["ok", "ok"]
        assert visit.accepted_at is not None and visit.accepted_at <= visit.closed_at


def test_control_without_the_lock_one_of_the_two_writes_is_lost(
    visit, guardian, clerk, without_the_lock
):
    outcomes = run_at_once([accept(clerk, visit.pk), cancel(guardian, visit.pk)], success="ok")
    assert outcomes == ["ok", "ok"]
    visit.refresh_from_db()
    # Both were told they succeeded, but the row keeps only the last write: an accepted
    # request the patient believes cancelled, or a cancelled one with no trace of the
    # clerk who took it. With the lock neither can happen (the test above).
    assert visit.state == "accepted" or visit.handled_by is None
