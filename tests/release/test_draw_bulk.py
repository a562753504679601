"""The draw reads once, decides in memory and writes in bulk (issue 25, docs/performance.md):
its cost does not grow with the requests, slots and ballots at an opening moment, and the
booking rules, the replay and the resumption of a draw that stopped half-way all hold."""

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.notifications import polling
from portal.notifications.models import Kind, Message
from portal.release import draw_results, draws, services
from portal.release.models import Ballot, BallotRequest, Draw
from portal.release.selectors import draw_replay
from portal.scheduling.models import Appointment
from portal.waitlist.models import WaitlistEntry
from tests.factories import (
    AppointmentFactory,
    ChildFactory,
    DoctorFactory,
    GuardianshipFactory,
    PatientFactory,
    SpecialtyFactory,
)
from tests.release.conftest import (
    TZ,
    day_ahead,
    followed_up,
    losers_told,
    make_slots,
    open_now,
)

pytestmark = pytest.mark.django_db


def a_ballot(clinic, *, slots: int, requests: int, days: int = 3) -> Ballot:
    """A place and day with ``slots`` morning times and ``requests`` adults (with an e-mail,
    so every result is a message) asking for any of them."""
    specialty = SpecialtyFactory()
    doctor = DoctorFactory(clinic=clinic, specialty=specialty)
    opens = timezone.now() + datetime.timedelta(hours=1)
    make_slots(doctor, day_ahead(days), list(range(8, 8 + slots)), opens)
    ballot = services.ballot_open(
        clinic_id=clinic.pk, specialty_id=specialty.pk, day=day_ahead(days)
    )
    for n in range(requests):
        p = PatientFactory(clinic=clinic, email=f"r{ballot.pk}-{n}@example.ru")
        services.request_make(actor=p.user, patient=p, ballot=ballot, doctor_ids=[], times="any")
    return ballot


def drawn(ballot: Ballot) -> Draw:
    draw = draws.draw_run(ballot_id=ballot.pk)
    assert draw is not None
    return draw


def statements_of_draws(ballots: list[Ballot]) -> tuple[int, int]:
    """The statements of the due draws, then of their follow-up (a task of its own)."""
    for ballot in ballots:
        open_now(ballot)
    with CaptureQueriesContext(connection) as run:
        drawn = draws.draws_due()
    assert len(drawn) == len(ballots) and all(d.finished_at for d in drawn)
    with CaptureQueriesContext(connection) as follow:
        assert followed_up() == 1  # one task for the draws run together
    return len(run.captured_queries), len(follow.captured_queries)


def test_the_statements_of_a_draw_do_not_grow_with_its_requests_and_slots(home_clinic):
    """Every slot is given and every loser goes on the waitlist and is told, in both."""
    small = statements_of_draws([a_ballot(home_clinic, slots=2, requests=3)])
    big = statements_of_draws([a_ballot(home_clinic, slots=6, requests=14, days=4)])
    assert big == small
    assert BallotRequest.objects.filter(status="won").count() == 8
    assert WaitlistEntry.objects.count() == 1 + 8
    assert losers_told() == 2  # one task per follow-up
    assert Message.objects.filter(kind=Kind.BALLOT_LOST).count() == 1 + 8
    assert polling.events_fan_out() == 8  # the winners' bookings, one outbox event each
    assert Message.objects.filter(kind=Kind.BOOKED).count() == 8


def test_the_statements_of_the_due_draws_do_not_grow_with_the_number_of_ballots(home_clinic):
    one = statements_of_draws([a_ballot(home_clinic, slots=2, requests=3)])
    three = statements_of_draws(
        [a_ballot(home_clinic, slots=2, requests=3, days=d) for d in (4, 5, 6)]
    )
    assert three == one
    assert Draw.objects.filter(finished_at__isnull=False).count() == 4


def test_a_draw_that_stopped_after_booking_is_finished_from_its_seed_and_inputs(
    ballot, monkeypatch
):
    """The worker died between the bookings' commit and the result's: the next run after
    RELEASE_DRAW_RESUME_SECONDS replays the bookings by their keys, books nothing twice."""
    people = [PatientFactory(clinic=ballot.clinic) for _ in range(5)]
    for p in people:
        services.request_make(actor=p.user, patient=p, ballot=ballot, doctor_ids=[], times="any")
    open_now(ballot)

    def worker_dies(*args, **kwargs):
        raise SystemExit("the worker died")

    monkeypatch.setattr(draw_results, "record", worker_dies)
    with pytest.raises(SystemExit):
        draws.draw_run(ballot_id=ballot.pk)
    monkeypatch.undo()
    booked = dict(Appointment.objects.values_list("pk", "slot_id"))
    assert len(booked) == 3
    draw = Draw.objects.get()
    assert drawn(ballot).finished_at is None  # not stalled yet: left alone

    stalled = timezone.now() - datetime.timedelta(seconds=settings.RELEASE_DRAW_RESUME_SECONDS + 1)
    Draw.objects.filter(pk=draw.pk).update(started_at=stalled)
    finished = drawn(ballot)
    assert finished.pk == draw.pk and finished.seed == draw.seed and finished.finished_at
    assert dict(Appointment.objects.values_list("pk", "slot_id")) == booked
    won = BallotRequest.objects.filter(status="won")
    assert sorted(won.values_list("appointment_id", flat=True)) == sorted(booked)
    assert draw_replay(finished).matches


def test_a_draw_that_stopped_before_booking_is_finished_with_its_stored_seed(ballot, monkeypatch):
    people = [PatientFactory(clinic=ballot.clinic) for _ in range(4)]
    for p in people:
        services.request_make(actor=p.user, patient=p, ballot=ballot, doctor_ids=[], times="any")
    open_now(ballot)

    def worker_dies(*args, **kwargs):
        raise SystemExit("the worker died")

    monkeypatch.setattr(draws, "_book", worker_dies)
    with pytest.raises(SystemExit):
        draws.draw_run(ballot_id=ballot.pk)
    monkeypatch.undo()
    draw = Draw.objects.get()
    stalled = timezone.now() - datetime.timedelta(seconds=settings.RELEASE_DRAW_RESUME_SECONDS + 1)
    Draw.objects.filter(pk=draw.pk).update(started_at=stalled)
    finished = drawn(ballot)
    assert finished.seed == draw.seed and finished.inputs == draw.inputs
    assert Appointment.objects.filter(status="booked").count() == 3
    assert draw_replay(finished).matches


def test_a_time_that_overlaps_the_patients_other_visit_goes_to_their_next_one(ballot, patient):
    """The booking's own overlap rule, asked in memory under the draw's locks: the 09:00
    time overlaps the patient's other appointment, so the draw gives them 10:00."""
    day = ballot.day
    AppointmentFactory(
        patient=patient.patient,
        slot__starts_at=datetime.datetime.combine(day, datetime.time(9, 10), tzinfo=TZ),
    )
    services.request_make(
        actor=patient, patient=patient.patient, ballot=ballot, doctor_ids=[], times="morning"
    )
    open_now(ballot)
    draw = drawn(ballot)
    mine = BallotRequest.objects.get()
    assert mine.status == "won"
    assert timezone.localtime(mine.appointment.starts_at).time() == datetime.time(10, 0)
    assert [code for _, _, code in draw.refusals] == ["overlap"]
    assert draw_replay(draw).matches


def test_one_patient_in_two_draws_at_the_same_hour_is_booked_once(home_clinic, patient):
    """Two specialties open the same day at the same moment; the patient asked in both for
    the same hour. The second draw sees the first one's booking (overlap), not the state
    before the draws."""
    opens = timezone.now() + datetime.timedelta(hours=1)
    ballots = []
    for _ in range(2):
        specialty = SpecialtyFactory()
        doctor = DoctorFactory(clinic=home_clinic, specialty=specialty)
        make_slots(doctor, day_ahead(), [9], opens)
        ballot = services.ballot_open(
            clinic_id=home_clinic.pk, specialty_id=specialty.pk, day=day_ahead()
        )
        services.request_make(
            actor=patient, patient=patient.patient, ballot=ballot, doctor_ids=[], times="any"
        )
        ballots.append(ballot)
        open_now(ballot)
    draws.draws_due()
    assert Appointment.objects.filter(patient=patient.patient, status="booked").count() == 1
    outcomes = sorted(BallotRequest.objects.values_list("status", flat=True))
    assert outcomes == ["lost", "won"]


def test_a_guardian_no_longer_acting_for_the_child_gets_no_booking_for_it(ballot, guardian):
    child = ChildFactory(clinic=ballot.clinic)
    link = GuardianshipFactory(guardian=guardian.patient, child=child)
    services.request_make(actor=guardian, patient=child, ballot=ballot, doctor_ids=[], times="any")
    link.ended_at = timezone.now()
    link.save(update_fields=["ended_at"])
    open_now(ballot)
    draw = drawn(ballot)
    request = BallotRequest.objects.get()
    assert request.status == "refused" and request.refusal == "release_not_actable"
    assert not Appointment.objects.exists()
    assert draw_replay(draw).matches


def test_a_referral_only_draw_books_each_winner_on_their_referral(home_clinic):
    """The referral rule of the booking, under the draw's locks: each winner's referral
    backs their appointment (used), the loser's stays active for another booking."""
    from portal.directory.models import Specialty
    from portal.referrals.models import Referral
    from tests.factories import ReferralFactory

    specialty = SpecialtyFactory(access=Specialty.Access.REFERRAL)
    doctor = DoctorFactory(clinic=home_clinic, specialty=specialty)
    make_slots(doctor, day_ahead(), [9, 10], timezone.now() + datetime.timedelta(hours=1))
    ballot = services.ballot_open(
        clinic_id=home_clinic.pk, specialty_id=specialty.pk, day=day_ahead()
    )
    for _ in range(3):
        p = PatientFactory(clinic=home_clinic)
        ReferralFactory(patient=p, specialty=specialty)
        services.request_make(actor=p.user, patient=p, ballot=ballot, doctor_ids=[], times="any")
    open_now(ballot)
    draw = drawn(ballot)
    for request in BallotRequest.objects.select_related("appointment"):
        referral = Referral.objects.get(patient_id=request.patient_id)
        if request.status == "won":
            assert referral.status == "used" and referral.appointment_id == request.appointment_id
        else:
            assert request.status == "lost" and referral.status == "active"
    assert BallotRequest.objects.filter(status="won").count() == 2
    assert draw_replay(draw).matches
