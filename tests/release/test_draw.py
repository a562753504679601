"""The fair release as patients live it: a request before opening, the draw at opening,
the result, the journal and the message; the operator's replay gives the same allocation."""

import contextlib

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from portal.audit.models import AuditAction, AuditEvent
from portal.notifications import polling
from portal.notifications.models import Kind, Message
from portal.release import draws, services
from portal.release.errors import ReleaseRefused
from portal.release.models import Ballot, BallotRequest
from portal.release.selectors import draw_replay
from portal.scheduling import services as booking
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Appointment, Slot
from tests.demo.days import MONDAY, SATURDAY, at_ten, next_weekday
from tests.factories import AppointmentFactory, ChildFactory, GuardianshipFactory, PatientFactory
from tests.release.conftest import day_ahead, followed_up, losers_told, open_now

pytestmark = pytest.mark.django_db


def drawn(ballot):
    """Run the due draw; it must exist."""
    draw = draws.draw_run(ballot_id=ballot.pk)
    assert draw is not None
    return draw


def ask(user, patient, ballot, doctors=(), times="any"):
    return services.request_make(
        actor=user, patient=patient, ballot=ballot, doctor_ids=list(doctors), times=times
    ).request


def test_while_a_ballot_waits_its_slots_are_kept_from_first_come_booking(ballot, patient):
    slot = Slot.objects.filter(doctor__clinic=ballot.clinic).first()
    open_now(ballot)  # the opening moment has come, the draw has not run yet
    with pytest.raises(BookingRefused) as refused:
        booking.appointment_book(
            actor=patient,
            patient=patient.patient,
            slot_id=slot.pk,
            idempotency_key=__import__("uuid").uuid4(),
        )
    assert refused.value.code == "slot_in_draw"
    assert "жеребьёвк" in refused.value.message


def test_the_draw_books_winners_tells_losers_and_opens_the_rest(ballot, place):
    clinic = ballot.clinic
    people = [PatientFactory(clinic=clinic, email=f"p{i}@example.ru") for i in range(5)]
    for p in people:
        ask(p.user, p, ballot)
    open_now(ballot)
    draw = draws.draw_run(ballot_id=ballot.pk)
    assert draw is not None and draw.finished_at is not None
    rows = BallotRequest.objects.filter(ballot=ballot)
    assert Counter_of(rows) == {"won": 3, "lost": 2}
    assert Appointment.objects.filter(slot__doctor__clinic=clinic, status="booked").count() == 3
    assert sorted(r.position or 0 for r in rows) == [1, 2, 3, 4, 5]
    lost = [r.patient for r in rows.filter(status="lost")]
    told = Message.objects.filter(kind=Kind.BALLOT_LOST)
    assert not told.exists()  # the draw asks a task worker to follow it up
    assert losers_told() == 0
    assert followed_up() == 1  # which asks for the losers' messages
    assert losers_told() == 1
    assert sorted(m.patient_id for m in told) == sorted(p.pk for p in lost)
    assert "не выпало" in told.first().text
    won = [r.patient for r in rows.filter(status="won")]
    polling.events_fan_out()  # the booking's messages, as the first polling worker writes them
    assert Message.objects.filter(kind=Kind.BOOKED, patient__in=won).count() == 3
    assert Ballot.objects.get(pk=ballot.pk).status == Ballot.Status.DRAWN
    assert AuditEvent.objects.filter(action=AuditAction.RELEASE_DRAWN).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.RELEASE_ALLOCATED).count() == 3
    assert AuditEvent.objects.filter(action=AuditAction.RELEASE_NOT_ALLOCATED).count() == 2


def Counter_of(rows):
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    return counts


def test_the_draw_replayed_gives_the_same_allocation(ballot):
    people = [PatientFactory(clinic=ballot.clinic) for _ in range(6)]
    for i, p in enumerate(people):
        ask(p.user, p, ballot, times=["any", "morning", "afternoon"][i % 3])
    open_now(ballot)
    draw = drawn(ballot)
    replay = draw_replay(draw)
    assert replay.matches and replay.recomputed == draw.allocation
    call_command("release_replay", str(ballot.pk))  # exits non-zero on a mismatch


def test_a_tampered_seed_or_input_does_not_replay(ballot):
    people = [PatientFactory(clinic=ballot.clinic) for _ in range(4)]
    for p in people:
        ask(p.user, p, ballot)
    open_now(ballot)
    draw = drawn(ballot)
    draw.seed = "0" * 64  # someone "re-rolls" the stored seed
    assert not draw_replay(draw).matches
    draw.refresh_from_db()
    draw.inputs["requests"].pop()  # or drops a request from the record
    assert not draw_replay(draw).matches


def test_running_the_draw_again_changes_nothing(ballot):
    for p in [PatientFactory(clinic=ballot.clinic) for _ in range(4)]:
        ask(p.user, p, ballot)
    open_now(ballot)
    first = drawn(ballot)
    again = drawn(ballot)
    assert again.pk == first.pk and again.seed == first.seed
    assert Appointment.objects.filter(status="booked").count() == 3


def test_a_draw_before_the_opening_moment_does_nothing(ballot, patient):
    ask(patient, patient.patient, ballot)
    assert draws.draw_run(ballot_id=ballot.pk) is None
    assert BallotRequest.objects.get().status == "pending"


def test_a_slot_nobody_asked_for_opens_for_everyone_after_the_draw(ballot, patient, stranger):
    ask(patient, patient.patient, ballot)
    open_now(ballot)
    draws.draw_run(ballot_id=ballot.pk)
    free = Slot.objects.filter(doctor__clinic=ballot.clinic, status="free")
    assert free.count() == 2 and not free.filter(held_until__isnull=False).exists()
    booking.appointment_book(
        actor=stranger,
        patient=stranger.patient,
        slot_id=free.first().pk,
        idempotency_key=__import__("uuid").uuid4(),
    )


def test_one_request_per_specialty_and_a_repeat_is_the_same_request(ballot, place, patient):
    first = ask(patient, patient.patient, ballot)
    assert ask(patient, patient.patient, ballot).pk == first.pk  # 100 clicks, one request
    clinic, specialty, doctor, _ = place
    import datetime

    from django.utils import timezone

    from tests.release.conftest import make_slots

    make_slots(doctor, day_ahead(4), [9], timezone.now() + datetime.timedelta(hours=1))
    other = services.ballot_open(clinic_id=clinic.pk, specialty_id=specialty.pk, day=day_ahead(4))
    with pytest.raises(ReleaseRefused) as refused:
        ask(patient, patient.patient, other)
    assert refused.value.code == "release_one_per_specialty"
    assert BallotRequest.objects.count() == 1


def test_a_guardian_asks_for_each_child_separately(ballot, guardian, child):
    sibling = ChildFactory(clinic=ballot.clinic)
    GuardianshipFactory(guardian=guardian.patient, child=sibling)
    ask(guardian, child, ballot)
    ask(guardian, sibling, ballot)
    ask(guardian, guardian.patient, ballot)
    assert BallotRequest.objects.filter(made_by=guardian).count() == 3


def test_the_booking_rules_refuse_a_request_as_they_would_refuse_a_booking(ballot, patient):
    AppointmentFactory(patient=patient.patient, slot__doctor__specialty=ballot.specialty)
    with pytest.raises(ReleaseRefused) as refused:
        ask(patient, patient.patient, ballot)
    assert refused.value.code == "same_specialty"
    assert "запись к этому специалисту" in refused.value.message


def test_no_requests_after_the_opening_moment(ballot, patient):
    open_now(ballot)
    with pytest.raises(ReleaseRefused) as refused:
        ask(patient, patient.patient, ballot)
    assert refused.value.code == "release_closed"


def test_hostile_doctor_and_time_values_are_refused_with_a_message(ballot, patient):
    with pytest.raises(ReleaseRefused) as refused:
        ask(patient, patient.patient, ballot, doctors=[999999])
    assert refused.value.code == "release_bad_doctor"
    with pytest.raises(ReleaseRefused) as refused:
        ask(patient, patient.patient, ballot, times="midnight'; DROP TABLE")
    assert refused.value.code == "release_bad_times"
    assert not BallotRequest.objects.exists()


def test_a_withdrawn_request_takes_no_part(ballot, patient):
    row = ask(patient, patient.patient, ballot)
    services.request_withdraw(actor=patient, request=row)
    open_now(ballot)
    draws.draw_run(ballot_id=ballot.pk)
    assert BallotRequest.objects.get().status == "withdrawn"
    assert AuditEvent.objects.filter(action=AuditAction.RELEASE_WITHDRAWN).exists()
    assert not Appointment.objects.exists()


def test_a_winner_who_booked_the_specialty_meanwhile_is_refused_and_the_slot_goes_on(
    ballot, patient
):
    """Three requests for three slots, so the patient's turn always finds a slot."""
    others = [PatientFactory(clinic=ballot.clinic) for _ in range(2)]
    ask(patient, patient.patient, ballot)
    for p in others:
        ask(p.user, p, ballot)
    AppointmentFactory(patient=patient.patient, slot__doctor__specialty=ballot.specialty)
    open_now(ballot)
    draw = drawn(ballot)
    mine = BallotRequest.objects.get(patient=patient.patient)
    assert mine.status == "refused" and mine.refusal == "same_specialty"
    assert BallotRequest.objects.filter(status="won").count() == 2
    assert draw.refusals and draw_replay(draw).matches


def test_the_due_command_runs_due_draws(ballot, patient):
    ask(patient, patient.patient, ballot)
    open_now(ballot)
    call_command("release_draws")
    assert BallotRequest.objects.get().status == "won"


def test_a_cancelled_ballot_lets_its_slots_go(ballot, operator, patient):
    ask(patient, patient.patient, ballot)
    services.ballot_cancel(ballot=ballot, actor=operator)
    assert not Slot.objects.filter(held_until__isnull=False).exists()
    assert BallotRequest.objects.get().status == "withdrawn"


@pytest.mark.parametrize(
    "day",
    [None, next_weekday(SATURDAY), next_weekday(MONDAY)],
    ids=["today", "saturday", "monday"],
)
def test_the_demo_has_a_ballot_that_opens_soon(demo_region, day):
    """On any day (the clock frozen on the next Saturday and Monday), whatever ids the
    database hands out: the demo's hours follow names, not ids (tests/demo/)."""
    from portal.demo import release, schedules

    with time_machine.travel(at_ten(day)) if day else contextlib.nullcontext():
        schedules.load(log=lambda _: None)
        release.load(log=lambda _: None)
        now = timezone.now()
        ballots = Ballot.objects.filter(status="collecting", opens_at__gt=now)
        assert ballots.count() == len(release.PLACES)
        assert all(b.opens_at <= now + release.DEMO_OPENS_IN for b in ballots)
        release.load(log=lambda _: None)  # idempotent
        assert Ballot.objects.count() == ballots.count()


def test_losers_join_the_waitlist_in_draw_order_and_are_told_so(ballot):
    from portal.waitlist.models import WaitlistEntry

    people = [PatientFactory(clinic=ballot.clinic, email=f"w{i}@example.ru") for i in range(6)]
    for p in people:
        ask(p.user, p, ballot)
    open_now(ballot)
    drawn(ballot)
    assert not WaitlistEntry.objects.exists()  # the draw's follow-up puts them there
    assert followed_up() == 1
    losers = list(BallotRequest.objects.filter(status="lost").order_by("position"))
    entries = list(WaitlistEntry.objects.order_by("pk"))
    assert [e.patient_id for e in entries] == [r.patient_id for r in losers]
    assert all(e.date_from == e.date_to == ballot.day for e in entries)
    losers_told()
    told = Message.objects.filter(kind=Kind.BALLOT_LOST, channel="email")
    assert told.count() == 3 and all("лист ожидания" in m.text for m in told)
