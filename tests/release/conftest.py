"""A ballot on a day three days ahead: two doctors, morning and afternoon slots, opening
in an hour. `open_now` moves the opening moment into the past, as the clock would."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from portal.release.models import Ballot
from portal.release.services import ballot_open
from portal.scheduling.models import Slot
from tests.factories import DoctorFactory, SlotFactory, SpecialtyFactory

TZ = ZoneInfo(settings.TIME_ZONE)


def day_ahead(days: int = 3) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def make_slots(doctor, day: datetime.date, hours: list[int], opens_at: datetime.datetime):
    return [
        SlotFactory(
            doctor=doctor,
            starts_at=datetime.datetime.combine(day, datetime.time(hour, 0), tzinfo=TZ),
            ends_at=datetime.datetime.combine(day, datetime.time(hour, 20), tzinfo=TZ),
            opens_at=opens_at,
        )
        for hour in hours
    ]


@pytest.fixture
def place(home_clinic):
    specialty = SpecialtyFactory(code="ophthalmologist-t", name="Офтальмолог")
    first = DoctorFactory(clinic=home_clinic, specialty=specialty, last_name="Зорина")
    second = DoctorFactory(clinic=home_clinic, specialty=specialty, last_name="Аксёнов")
    return home_clinic, specialty, first, second


@pytest.fixture
def ballot(place) -> Ballot:
    clinic, specialty, first, second = place
    day = day_ahead()
    opens = timezone.now() + datetime.timedelta(hours=1)
    make_slots(first, day, [9, 10], opens)  # morning
    make_slots(second, day, [15], opens)  # afternoon
    return ballot_open(clinic_id=clinic.pk, specialty_id=specialty.pk, day=day)


def open_now(ballot: Ballot) -> None:
    """The opening moment has come (a test fixture's shortcut for the clock)."""
    past = timezone.now() - datetime.timedelta(seconds=1)
    Slot.objects.filter(doctor__clinic=ballot.clinic, doctor__specialty=ballot.specialty).update(
        opens_at=past
    )
    Ballot.objects.filter(pk=ballot.pk).update(opens_at=past)


def _tasks_run(task_path: str) -> int:
    """Run the queued tasks of one kind as a task worker would: the rows the code wrote,
    with their own arguments. Returns how many ran."""
    from django_tasks_db.models import DBTaskResult

    ran = 0
    for row in DBTaskResult.objects.filter(task_path=task_path, status="READY").order_by(
        "enqueued_at"
    ):
        row.task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
        row.delete()
        ran += 1
    return ran


def followed_up() -> int:
    """Run the follow-ups the draws' results asked for (`release.follow_up`: the losers on
    the waitlist, their messages asked for, what is free offered). Returns how many ran."""
    return _tasks_run("portal.release.follow_up.draws_follow_up")


def losers_told() -> int:
    """Run the losers' message tasks the follow-ups asked for (`release.losers`). Returns
    how many ran."""
    return _tasks_run("portal.release.losers.losers_tell")
