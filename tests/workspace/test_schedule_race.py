"""On PostgreSQL: publishing a schedule change racing with patients who book the very slots
it removes (docs/concurrency.md, docs/workspace.md «Schedules»).

Afterwards no appointment is active on a removed time, no slot holds two, nothing is
half-done (the rule changed and every removed slot blocked, or nothing changed), and every
appointment the clinic cancelled has one journal entry and its messages. The control test
shows the race is real: with the diff not taken again under the slot locks, a booking that
lands between the look and the write survives on a time the doctor no longer works.
"""

import datetime
import threading
import time
import uuid
from collections import Counter

import pytest
from django.db import connection, connections
from django.utils import timezone

from portal.audit.models import AuditAction, AuditEvent
from portal.notifications.models import Kind, Message
from portal.scheduling import schedule_changes, services
from portal.scheduling.models import Appointment, ScheduleRule, Slot
from portal.scheduling.slot_generation import slots_generate
from tests.factories import AppointmentFactory, DoctorFactory, PatientFactory
from tests.scheduling.test_concurrency import booked_at_once

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

BOOKERS = 30
PREBOOKED = 20
NEW_END = datetime.time(11, 0)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real row locks need PostgreSQL")


@pytest.fixture
def schedule(home_clinic):
    """A doctor on 08:00–14:00 every day, its slots generated; the change ends at 11:00."""
    doctor = DoctorFactory(clinic=home_clinic)
    rule = ScheduleRule.objects.create(
        doctor=doctor, weekdays="1234567", start_time=datetime.time(8), end_time=datetime.time(14)
    )
    slots_generate(
        start=timezone.localdate() + datetime.timedelta(days=1), days=10, doctor_ids=[doctor.pk]
    )
    tz = timezone.get_current_timezone()
    removed = [
        slot
        for slot in Slot.objects.filter(doctor=doctor).order_by("starts_at")
        if slot.starts_at.astimezone(tz).time() >= NEW_END
    ]
    return {"doctor": doctor, "rule": rule, "removed": removed}


def _publish(clerk, schedule):
    rule = schedule["rule"]
    return services.schedule_publish(
        actor=clerk,
        doctor=schedule["doctor"],
        rule_id=rule.pk,
        draft=services.RuleDraft.of(rule, end_time=NEW_END),
        reason="Врач переходит на утренний приём",
    )


def _book(patient, slot, after: float = 0.0):
    def call():
        time.sleep(after)  # spread out, so bookings land before, during and after the publish
        services.appointment_book(
            actor=patient.user, patient=patient, slot_id=slot.pk, idempotency_key=uuid.uuid4()
        )

    return call


def _assert_nothing_on_removed_time(schedule):
    doctor = schedule["doctor"]
    removed_ids = [slot.pk for slot in schedule["removed"]]
    assert not Appointment.objects.filter(
        slot_id__in=removed_ids, status=Appointment.Status.BOOKED
    ).exists()
    assert set(Slot.objects.filter(pk__in=removed_ids).values_list("status", flat=True)) == {
        Slot.Status.BLOCKED
    }
    # Booked exactly when one active appointment holds the slot.
    active = Counter(
        Appointment.objects.filter(
            slot__doctor=doctor, status=Appointment.Status.BOOKED
        ).values_list("slot_id", flat=True)
    )
    assert set(active.values()) <= {1}
    assert set(active) == set(
        Slot.objects.filter(doctor=doctor, status=Slot.Status.BOOKED).values_list("pk", flat=True)
    )


def test_a_publish_racing_with_patients_booking_the_times_it_removes(clerk, home_clinic, schedule):
    removed = schedule["removed"]
    for slot in removed[:PREBOOKED]:
        Slot.objects.filter(pk=slot.pk).update(status=Slot.Status.BOOKED)
        AppointmentFactory(
            slot=slot, patient=PatientFactory(clinic=home_clinic, email=f"p{slot.pk}@example.ru")
        )
    bookers = [PatientFactory(clinic=home_clinic, email=f"b{n}@example.ru") for n in range(BOOKERS)]
    targets = removed[PREBOOKED : PREBOOKED + BOOKERS]

    took: list[float] = []

    def publish():
        started = time.monotonic()
        _publish(clerk, schedule)
        took.append(time.monotonic() - started)

    outcomes = booked_at_once(
        [publish]
        + [
            _book(p, s, after=n * 0.1)
            for n, (p, s) in enumerate(zip(bookers, targets, strict=True))
        ]
    )
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    # Every call ended: the publish and the bookings that came first ("booked"), the
    # ones that came after it refused because the time is closed.
    assert set(outcomes) <= {"booked", "slot_blocked", "busy"}, outcomes
    print(f"publish over {len(removed)} removed slots took {took[0]:.2f} s; {dict(outcomes)}")
    assert ScheduleRule.objects.get(pk=schedule["rule"].pk).end_time == NEW_END
    _assert_nothing_on_removed_time(schedule)

    by_clinic = Appointment.objects.filter(
        slot__doctor=schedule["doctor"], status=Appointment.Status.CANCELLED_CLINIC
    )
    # The prebooked ones and every booking that won its race against the publish.
    assert by_clinic.count() == PREBOOKED + outcomes["booked"] - 1
    journal = Counter(
        AuditEvent.objects.filter(action=AuditAction.APPOINTMENT_CANCELLED_BY_CLINIC).values_list(
            "details__appointment", flat=True
        )
    )
    assert set(journal) == set(by_clinic.values_list("pk", flat=True))
    assert set(journal.values()) == {1}
    told = Counter(
        Message.objects.filter(
            kind=Kind.CANCELLED_BY_CLINIC, appointment__in=by_clinic
        ).values_list("appointment_id", "channel")
    )
    assert {appointment for appointment, _ in told} == set(by_clinic.values_list("pk", flat=True))
    assert set(told.values()) == {1}


def _booking_between_the_look_and_the_write(monkeypatch, clerk, home_clinic, schedule, *, stale):
    """The publish looks (its lock-free diff), a patient books a removed slot and commits,
    then the publish goes on. ``stale``: the control, the diff is NOT taken again under the
    slot locks (the publish writes what it saw before them)."""
    target = schedule["removed"][0]
    patient = PatientFactory(clinic=home_clinic, email="late@example.ru")
    real_diff = schedule_changes.schedule_diff
    seen: list[schedule_changes.ScheduleDiff] = []
    looked, booked = threading.Event(), threading.Event()

    def diff_then_wait(**kwargs):
        result = real_diff(**kwargs)
        if not seen:
            seen.append(result)
            looked.set()
            assert booked.wait(20)
            return result
        return seen[0] if stale else result

    monkeypatch.setattr("portal.scheduling.clinic_wide.schedule_diff", diff_then_wait)

    def late_booking():
        assert looked.wait(20)
        try:
            _book(patient, target)()
        finally:
            booked.set()
            connections.close_all()

    booker = threading.Thread(target=late_booking)
    booker.start()
    _publish(clerk, schedule)
    booker.join(30)
    return Appointment.objects.get(patient=patient)


def test_a_booking_between_the_look_and_the_write_is_cancelled_and_told(
    monkeypatch, clerk, home_clinic, schedule
):
    late = _booking_between_the_look_and_the_write(
        monkeypatch, clerk, home_clinic, schedule, stale=False
    )
    assert late.status == Appointment.Status.CANCELLED_CLINIC
    assert Message.objects.filter(appointment=late, kind=Kind.CANCELLED_BY_CLINIC).exists()
    _assert_nothing_on_removed_time(schedule)


def test_control_without_the_second_look_an_appointment_survives_on_a_removed_time(
    monkeypatch, clerk, home_clinic, schedule
):
    late = _booking_between_the_look_and_the_write(
        monkeypatch, clerk, home_clinic, schedule, stale=True
    )
    # The race is real: the rule is published, yet the patient is booked on a time the
    # doctor no longer works (the slot is the only one of the removed still booked).
    assert ScheduleRule.objects.get(pk=schedule["rule"].pk).end_time == NEW_END
    assert late.status == Appointment.Status.BOOKED
    assert Slot.objects.get(pk=late.slot_id).status == Slot.Status.BOOKED
