"""Real races on PostgreSQL (docs/fair-release.md, «Concurrency»): two draws of one ballot
at once, and a draw racing first-come bookers. Each has a control test with the
protection switched off that shows the race is real."""

import contextlib
import threading
import uuid
from collections import Counter

import pytest
from django.db import connection, connections

from portal.release import draws, services
from portal.release.models import BallotRequest, Draw
from portal.scheduling import services as booking
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Appointment, Slot
from tests.factories import PatientFactory
from tests.release.conftest import open_now

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real row locks need PostgreSQL")


def at_once(calls):
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(call):
        try:
            barrier.wait()
            outcome = call()
        except BookingRefused as refused:
            outcome = refused.code
        except Exception as exc:  # counted below as a failure
            outcome = f"error: {type(exc).__name__}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=worker, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return Counter(outcomes)


def requests_for(ballot, n):
    people = [PatientFactory(clinic=ballot.clinic) for _ in range(n)]
    for p in people:
        services.request_make(actor=p.user, patient=p, ballot=ballot, doctor_ids=[], times="any")
    return people


def draw_call(ballot):
    def call():
        draw = draws.draw_run(ballot_id=ballot.pk)
        return "draw" if draw is not None else "none"

    return call


def one_active_appointment_per_slot():
    booked = Appointment.objects.filter(status="booked")
    return booked.count() == booked.values("slot").distinct().count()


@pytest.fixture
def seeds():
    before = draws.seeds_made
    return lambda: draws.seeds_made - before


def test_concurrent_draw_runs_draw_one_seed_and_give_nothing_twice(ballot, seeds):
    requests_for(ballot, 8)
    open_now(ballot)
    outcomes = at_once([draw_call(ballot) for _ in range(4)])
    assert outcomes == Counter({"draw": 4})
    assert seeds() == 1 and Draw.objects.count() == 1
    assert one_active_appointment_per_slot()
    assert Appointment.objects.filter(status="booked").count() == 3
    assert BallotRequest.objects.filter(status="won").count() == 3


def test_control_without_the_ballot_lock_concurrent_runs_draw_several_seeds(
    ballot, seeds, monkeypatch
):
    """The race the lock stops: each run sees «collecting» and draws its own seed (the
    database's one-draw-per-ballot then refuses all but one, as a second line)."""
    monkeypatch.setattr(draws, "PROTECT_BALLOT_CLAIM", False)
    requests_for(ballot, 8)
    open_now(ballot)
    real_create = Draw.objects.bulk_create
    gate = threading.Barrier(4, timeout=10)

    def slow_create(*args, **kwargs):
        # Every run has read «collecting» before any writes its draw.
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait()
        return real_create(*args, **kwargs)

    monkeypatch.setattr(Draw.objects, "bulk_create", slow_create)
    at_once([draw_call(ballot) for _ in range(4)])
    assert seeds() > 1
    assert Draw.objects.count() == 1  # the one-to-one constraint
    assert one_active_appointment_per_slot()


def first_come_call(patient, slot_ids):
    def call():
        for _ in range(200):
            for slot_id in slot_ids:
                try:
                    booking.appointment_book(
                        actor=patient.user,
                        patient=patient,
                        slot_id=slot_id,
                        idempotency_key=uuid.uuid4(),
                    )
                    return "first-come booked"
                except BookingRefused:
                    continue
        return "first-come refused"

    return call


def test_a_draw_racing_first_come_bookers_gives_every_slot_by_the_draw(ballot):
    requests_for(ballot, 5)
    open_now(ballot)
    slot_ids = list(Slot.objects.values_list("pk", flat=True))
    scripts = [PatientFactory(clinic=ballot.clinic) for _ in range(4)]
    outcomes = at_once([draw_call(ballot), *(first_come_call(p, slot_ids) for p in scripts)])
    assert outcomes["first-come booked"] == 0
    assert outcomes["draw"] == 1
    assert BallotRequest.objects.filter(status="won").count() == 3
    assert one_active_appointment_per_slot()


def test_control_without_the_reservation_first_come_bookers_take_the_slots(ballot, monkeypatch):
    """Without keeping the slots for the draw, a script that hammers at the opening moment
    beats the draw to the slots: the race is real and the reservation is what stops it."""
    booking.slots_release_from_draw(slot_ids=list(Slot.objects.values_list("pk", flat=True)))
    monkeypatch.setattr(draws, "PROTECT_RESERVATION", False)
    requests_for(ballot, 5)
    open_now(ballot)
    slot_ids = list(Slot.objects.values_list("pk", flat=True))
    scripts = [PatientFactory(clinic=ballot.clinic) for _ in range(4)]
    outcomes = at_once([*(first_come_call(p, slot_ids) for p in scripts), draw_call(ballot)])
    assert outcomes["first-come booked"] >= 1
    assert BallotRequest.objects.filter(status="won").count() < 3
    assert one_active_appointment_per_slot()  # the booking service still never double-books


def test_a_draw_racing_its_own_patients_bookings_books_no_one_twice_in_the_specialty(ballot, place):
    """The draw books all its winners in one transaction under every requesting patient's
    lock: a patient who books the same specialty first come at that moment (another day)
    ends with one appointment in it, whoever came first — never two."""
    from django.utils import timezone

    from tests.release.conftest import day_ahead, make_slots

    people = requests_for(ballot, 5)
    open_now(ballot)
    _, specialty, doctor, _ = place
    elsewhere = make_slots(doctor, day_ahead(5), [9, 10, 11, 12, 13], timezone.now())

    def book_elsewhere(patient, slot):
        def call():
            booking.appointment_book(
                actor=patient.user, patient=patient, slot_id=slot.pk, idempotency_key=uuid.uuid4()
            )
            return "booked elsewhere"

        return call

    outcomes = at_once(
        [draw_call(ballot), *(book_elsewhere(p, s) for p, s in zip(people, elsewhere, strict=True))]
    )
    assert not [o for o in outcomes if str(o).startswith("error")], outcomes
    for person in people:
        mine = Appointment.objects.filter(patient=person, status="booked", specialty=specialty)
        assert mine.count() == 1
    assert one_active_appointment_per_slot()
