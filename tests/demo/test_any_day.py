"""The demo of `make run` has what the README's walkthrough needs on any day it is
loaded: bookable times, times that open tomorrow at 07:00, a fully booked
ophthalmologist with a waitlist, and a ballot whose draw is ten minutes away.

The days are computed from today (the next Saturday and the next Monday whose day
past the horizon is no public holiday, the next 17 December), and the clock is frozen
there with time-machine. The demo's schedules
follow from names and places in the region data, never from database ids, which keep
counting across tests on PostgreSQL.
"""

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from portal.demo import directory, release, schedules
from portal.demo import waitlist as waitlist_demo
from portal.demo.personas import persona_by_key
from portal.directory.models import Clinic, Doctor
from portal.release.models import Ballot
from portal.scheduling.models import Appointment, ScheduleRule, Slot
from portal.scheduling.selectors import bookable_q
from portal.waitlist.models import WaitlistEntry
from tests.demo.days import (
    MONDAY,
    SATURDAY,
    TZ,
    at_ten,
    next_december_17,
    next_weekday,
    next_weekday_opening_a_working_day,
)
from tests.factories import DoctorFactory

pytestmark = pytest.mark.django_db


def quiet(_: str) -> None:
    pass


@pytest.mark.parametrize(
    "day",
    [next_weekday_opening_a_working_day(SATURDAY), next_weekday_opening_a_working_day(MONDAY)],
    ids=["saturday", "monday"],
)
def test_the_whole_demo_has_the_walkthrough_on(day):
    with time_machine.travel(at_ten(day)):
        call_command("load_demo", stdout=StringIO())
        now = timezone.now()
        assert timezone.localdate() == day

        # Times to book now, and times that open tomorrow at 07:00 (the day past the
        # horizon; at weekends only the doctors who work then have it).
        assert Slot.objects.filter(bookable_q(now)).exists()
        later = Slot.objects.filter(opens_at__gt=now, status="free")
        tomorrow_seven = datetime.datetime.combine(
            day + datetime.timedelta(days=1), datetime.time(7, 0), tzinfo=TZ
        )
        assert later.filter(opens_at=tomorrow_seven).exists()

        # The waitlist (docs/waitlist.md): the ophthalmologist is fully booked, Артём has
        # a time to cancel, two children wait.
        doctor = Doctor.objects.get(
            clinic__short_name=waitlist_demo.CLINIC, specialty__code=waitlist_demo.SPECIALTY
        )
        assert not Slot.objects.filter(bookable_q(now), doctor=doctor).exists()
        assert Appointment.objects.filter(
            patient__esia_oid=persona_by_key("artem")["oid"], status="booked", slot__doctor=doctor
        ).exists()
        waiting = WaitlistEntry.objects.filter(status__in=WaitlistEntry.LIVE)
        assert waiting.count() == waitlist_demo.WAITING_AHEAD

        # «Запись при открытии дня»: both places have a ballot drawn in ten minutes, over
        # free slots that open at that moment.
        ballots = Ballot.objects.filter(status=Ballot.Status.COLLECTING)
        assert {b.clinic.short_name for b in ballots} == {c for c, _ in release.PLACES}
        for ballot in ballots:
            assert now < ballot.opens_at <= now + release.DEMO_OPENS_IN
            assert ballot.day > day
            assert Slot.objects.filter(
                doctor__clinic=ballot.clinic,
                doctor__specialty=ballot.specialty,
                starts_at__date__gte=ballot.day - datetime.timedelta(days=1),
                opens_at=ballot.opens_at,
                status="free",
            ).exists()

        # A second `make run` the same day adds nothing and breaks nothing.
        counts = (
            Slot.objects.count(),
            Appointment.objects.count(),
            Ballot.objects.count(),
            WaitlistEntry.objects.count(),
            ScheduleRule.objects.count(),
        )
        call_command("load_demo", stdout=StringIO())
        assert (
            Slot.objects.count(),
            Appointment.objects.count(),
            Ballot.objects.count(),
            WaitlistEntry.objects.count(),
            ScheduleRule.objects.count(),
        ) == counts


def test_a_ballot_opens_soon_even_when_the_next_days_are_public_holidays():
    day = next_december_17()
    with time_machine.travel(at_ten(day)):
        directory.load(log=quiet)
        schedules.load(log=quiet)
        release.load(log=quiet)
        ballots = Ballot.objects.filter(status=Ballot.Status.COLLECTING)
        assert ballots.count() == len(release.PLACES)
        # 1–8 January are holidays: the first working day after them.
        assert all(b.day > datetime.date(day.year + 1, 1, 8) for b in ballots)


def test_a_later_run_opens_a_new_ballot_when_the_last_one_was_drawn_or_missed():
    day = next_weekday(MONDAY)
    with time_machine.travel(at_ten(day)):
        directory.load(log=quiet)
        schedules.load(log=quiet)
        release.load(log=quiet)
        first = set(Ballot.objects.values_list("pk", flat=True))
    # An hour later the stand was stopped before the draws: their moment has passed.
    with time_machine.travel(at_ten(day) + datetime.timedelta(hours=1)):
        release.load(log=quiet)
        now = timezone.now()
        fresh = Ballot.objects.exclude(pk__in=first)
        assert fresh.count() == len(release.PLACES)
        assert all(now < b.opens_at <= now + release.DEMO_OPENS_IN for b in fresh)


def _rules_by_name() -> dict[tuple[str, str, str], tuple[str, datetime.time]]:
    return {
        (r.doctor.clinic.short_name, r.doctor.specialty.code, r.doctor.full_name): (
            r.weekdays,
            r.start_time,
        )
        for r in ScheduleRule.objects.select_related("doctor__clinic", "doctor__specialty")
    }


def test_demo_hours_follow_names_and_places_not_database_ids():
    directory.load(log=quiet)
    ScheduleRule.objects.bulk_create(
        schedules.rule_for(pk, key) for pk, key in schedules.doctor_keys().items()
    )
    first = _rules_by_name()
    first_ids = set(Doctor.objects.values_list("pk", flat=True))
    weekend = [k for k, (weekdays, _) in first.items() if weekdays == "1234567"]
    assert 0 < len(weekend) < len(first) / 4
    assert {start for _, start in first.values()} == {schedules.MORNING[0], schedules.AFTERNOON[0]}

    # The same region again, with every id moved on (as in a later test on PostgreSQL).
    Doctor.objects.all().delete()
    Clinic.objects.all().delete()
    for _ in range(7):
        DoctorFactory()
    Doctor.objects.all().delete()
    Clinic.objects.all().delete()
    directory.load(log=quiet)
    ScheduleRule.objects.bulk_create(
        schedules.rule_for(pk, key) for pk, key in schedules.doctor_keys().items()
    )
    assert not first_ids & set(Doctor.objects.values_list("pk", flat=True))
    assert _rules_by_name() == first


def test_the_kept_migrated_database_is_named_after_every_migration_file(tmp_path, monkeypatch):
    from portal.demo import migrated

    key = migrated.migrations_key()
    assert key == migrated.migrations_key() and len(key) == 20
    monkeypatch.setenv("MIGRATED_TEMPLATE_DIR", "")
    assert migrated.template_dir() is None  # switched off
    monkeypatch.setenv("MIGRATED_TEMPLATE_DIR", str(tmp_path))
    assert migrated.template_dir() == tmp_path
