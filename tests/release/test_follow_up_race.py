"""A real race on PostgreSQL (docs/fair-release.md, «Concurrency»): the draw's follow-up run
by its task and by the sweep at once. The draws' row locks let one of them tell the losers;
the control, with the lock switched off, shows both would."""

import contextlib
import threading

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from portal.release import draws, follow_up, services
from portal.release.losers import losers_tell_later
from portal.waitlist.models import WaitlistEntry
from tests.factories import PatientFactory
from tests.release.conftest import open_now
from tests.release.test_draw_race import at_once

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

TELL = "portal.release.losers.losers_tell"


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real row locks need PostgreSQL")


@pytest.fixture
def drawn(ballot):
    """Eight patients for the ballot's three times: five lose."""
    for i in range(8):
        p = PatientFactory(clinic=ballot.clinic, email=f"race{i}@example.ru")
        services.request_make(actor=p.user, patient=p, ballot=ballot, doctor_ids=[], times="any")
    open_now(ballot)
    draw = draws.draw_run(ballot_id=ballot.pk)
    assert draw is not None
    return draw


def _follow_up_call(draw):
    return lambda: f"followed up {follow_up.follow_up([draw.pk])}"


def test_follow_ups_at_once_tell_the_losers_once(drawn):
    outcomes = at_once([_follow_up_call(drawn) for _ in range(4)])
    assert outcomes["followed up 1"] == 1 and outcomes["followed up 0"] == 3, outcomes
    assert DBTaskResult.objects.filter(task_path=TELL).count() == 1
    assert WaitlistEntry.objects.count() == 5


def test_control_without_the_draw_lock_follow_ups_at_once_tell_the_losers_twice(drawn, monkeypatch):
    """The race the lock stops: each run reads the draw as not followed up, then asks
    for the messages."""
    monkeypatch.setattr(follow_up, "PROTECT_FOLLOW_UP", False)
    gate = threading.Barrier(2, timeout=10)

    def tell_after_both_read(told):
        # Both runs have read «not followed up» before either marks it.
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait()
        losers_tell_later(told)

    monkeypatch.setattr(follow_up, "losers_tell_later", tell_after_both_read)
    at_once([_follow_up_call(drawn) for _ in range(2)])
    assert DBTaskResult.objects.filter(task_path=TELL).count() == 2
    assert WaitlistEntry.objects.count() == 5  # the waitlist's own constraint still holds
