"""The draw's follow-up as a task of its own (docs/fair-release.md, «The draw», step 5):
asked for in the results' commit, so no recorded draw goes unfollowed whatever happens to
the process that drew; each part done once however often it runs; the result page honest
while it has not run yet."""

import datetime
import importlib
import io
from unittest import mock

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portal.notifications.models import Kind, Message
from portal.release import draws, follow_up, services
from portal.release.models import BallotRequest, Draw
from portal.waitlist.models import Offer, WaitlistEntry
from tests.factories import PatientFactory
from tests.release.conftest import followed_up, losers_told, open_now

pytestmark = pytest.mark.django_db

FOLLOW_UP = "portal.release.follow_up.draws_follow_up"


def _drawn_with_losers(ballot, n=6) -> Draw:
    """Six patients (with e-mail) for the ballot's three times: three lose."""
    for i in range(n):
        p = PatientFactory(clinic=ballot.clinic, email=f"f{i}@example.ru")
        services.request_make(actor=p.user, patient=p, ballot=ballot, doctor_ids=[], times="any")
    open_now(ballot)
    draw = draws.draw_run(ballot_id=ballot.pk)
    assert draw is not None and draw.finished_at is not None
    return draw


def _lost() -> list[BallotRequest]:
    return list(BallotRequest.objects.filter(status="lost").order_by("position"))


def test_the_results_commit_with_the_ask_for_their_follow_up(ballot):
    """The process that drew can die the moment after its results: the task is already
    there, and a worker follows the draw up from what it stored."""
    draw = _drawn_with_losers(ballot)
    asked = DBTaskResult.objects.get(task_path=FOLLOW_UP)
    assert asked.args_kwargs["args"] == [[draw.pk]]
    assert not WaitlistEntry.objects.exists() and draw.followed_up_at is None

    assert followed_up() == 1
    assert [e.patient_id for e in WaitlistEntry.objects.order_by("pk")] == [
        r.patient_id for r in _lost()
    ]
    assert Draw.objects.get().followed_up_at is not None
    assert losers_told() == 1
    told = Message.objects.filter(kind=Kind.BALLOT_LOST, channel="email")
    assert told.count() == 3 and all("лист ожидания" in m.text for m in told)


def _worker_batch() -> None:
    """The library's own worker, as `tasks_worker` runs it, once through what is due."""
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command(
            "db_worker", "--batch", "--no-startup-delay", "--no-reload",
            "--queue-name", "default", verbosity=0,
        )  # fmt: skip


def test_the_follow_up_waits_out_the_opening_s_burst(ballot, settings):
    """At the opening the patients' pages come first: a worker takes the follow-up only
    RELEASE_FOLLOW_UP_DELAY_SECONDS after the results, and then does all of it."""
    settings.RELEASE_FOLLOW_UP_DELAY_SECONDS = 15
    draw = _drawn_with_losers(ballot)
    asked = DBTaskResult.objects.get(task_path=FOLLOW_UP)
    assert draw.finished_at is not None
    assert asked.run_after >= draw.finished_at + datetime.timedelta(seconds=15)
    _worker_batch()
    assert not WaitlistEntry.objects.exists() and Draw.objects.get().followed_up_at is None
    DBTaskResult.objects.filter(pk=asked.pk).update(  # the delay has passed
        run_after=timezone.now() - datetime.timedelta(seconds=1)
    )
    _worker_batch()
    assert WaitlistEntry.objects.count() == 3 and Draw.objects.get().followed_up_at is not None


def test_a_task_worker_runs_the_follow_up_and_then_the_losers_messages(ballot, settings):
    """The library's own worker, as `tasks_worker` runs it: the task rows the draw wrote,
    found by their paths and run with their stored arguments, the follow-up's own ask for
    the messages taken in the same batch."""
    settings.RELEASE_FOLLOW_UP_DELAY_SECONDS = 0
    _drawn_with_losers(ballot)
    _worker_batch()
    done = DBTaskResult.objects.filter(task_path__startswith="portal.release.")
    assert sorted(done.values_list("task_path", "status")) == [
        ("portal.release.follow_up.draws_follow_up", "SUCCESSFUL"),
        ("portal.release.losers.losers_tell", "SUCCESSFUL"),
    ]
    assert WaitlistEntry.objects.count() == 3
    told = Message.objects.filter(kind=Kind.BALLOT_LOST, channel="email")
    assert told.count() == 3 and all("лист ожидания" in m.text for m in told)


def test_a_draw_that_failed_to_record_asks_for_no_follow_up(ballot, monkeypatch):
    """The ask is part of the results' transaction: no results, no follow-up of nothing."""
    from portal.release import draw_results

    def audit_fails(*args, **kwargs):
        raise RuntimeError("the journal is unavailable")

    monkeypatch.setattr(draw_results, "audit_record_many", audit_fails)
    with pytest.raises(RuntimeError):
        _drawn_with_losers(ballot)
    assert not DBTaskResult.objects.filter(task_path=FOLLOW_UP).exists()
    assert Draw.objects.get().finished_at is None


def test_a_follow_up_run_twice_tells_each_loser_once(ballot):
    draw = _drawn_with_losers(ballot)
    assert follow_up.follow_up([draw.pk]) == 1
    assert follow_up.follow_up([draw.pk]) == 0  # already followed up: nothing again
    assert WaitlistEntry.objects.count() == 3
    assert losers_told() == 1
    assert Message.objects.filter(kind=Kind.BALLOT_LOST, channel="email").count() == 3


def test_a_follow_up_that_stopped_before_telling_is_finished_with_the_same_messages(
    ballot, monkeypatch
):
    """The worker died after the waitlist's commit: the next run finds the entries there,
    adds none, and tells the losers they are on the waitlist."""
    draw = _drawn_with_losers(ballot)
    real_told = follow_up._told

    def dies(*args, **kwargs):
        raise SystemExit("the worker died")

    monkeypatch.setattr(follow_up, "_told", dies)
    with pytest.raises(SystemExit):
        follow_up.follow_up([draw.pk])
    assert WaitlistEntry.objects.count() == 3
    monkeypatch.setattr(follow_up, "_told", real_told)

    assert follow_up.follow_up([draw.pk]) == 1
    assert WaitlistEntry.objects.count() == 3
    assert losers_told() == 1
    told = Message.objects.filter(kind=Kind.BALLOT_LOST, channel="email")
    assert told.count() == 3 and all("лист ожидания" in m.text for m in told)


def _release_draws() -> str:
    out = io.StringIO()
    call_command("release_draws", stdout=out)
    return out.getvalue()


def test_the_sweep_follows_up_a_draw_whose_task_was_lost_long_ago(ballot):
    draw = _drawn_with_losers(ballot)
    DBTaskResult.objects.filter(task_path=FOLLOW_UP).delete()  # lost with its worker

    assert "followed up" not in _release_draws()
    assert not WaitlistEntry.objects.exists()  # not long enough: its task may still run

    late = timezone.now() - datetime.timedelta(seconds=settings.RELEASE_DRAW_RESUME_SECONDS + 1)
    Draw.objects.filter(pk=draw.pk).update(finished_at=late)
    assert "followed up 1 draw(s) whose task was missing" in _release_draws()
    assert WaitlistEntry.objects.count() == 3
    assert losers_told() == 1
    assert "followed up" not in _release_draws()
    assert losers_told() == 0  # followed up once


def test_what_nobody_won_is_offered_to_whoever_waits_by_the_follow_up(ballot, place):
    """Three patients ask for the first doctor's two morning times; the second doctor's
    15:00 is left. A patient already on the place's waitlist is offered it by the
    follow-up, not before (until then it is free for everyone)."""
    _clinic, _specialty, first, second = place
    waiter = PatientFactory(clinic=ballot.clinic)
    WaitlistEntry.objects.create(
        patient=waiter,
        created_by=waiter.user,
        clinic=ballot.clinic,
        specialty=ballot.specialty,
        date_from=ballot.day,
        date_to=ballot.day + datetime.timedelta(days=3),
    )
    for i in range(3):
        p = PatientFactory(clinic=ballot.clinic, email=f"o{i}@example.ru")
        services.request_make(
            actor=p.user, patient=p, ballot=ballot, doctor_ids=[first.pk], times="any"
        )
    open_now(ballot)
    draws.draw_run(ballot_id=ballot.pk)
    assert not Offer.objects.exists()
    followed_up()
    offer = Offer.objects.get()
    assert offer.patient_id == waiter.pk and offer.slot.doctor_id == second.pk
    (loser,) = _lost()  # on the waitlist for the first doctor, whose times are booked
    assert WaitlistEntry.objects.filter(patient=loser.patient, doctor=first).exists()


def test_a_loser_s_page_says_the_waitlist_entry_is_on_its_way_until_it_is_there(client, ballot):
    _drawn_with_losers(ballot)
    loser = _lost()[0]
    client.force_login(loser.patient.user)
    url = reverse("release:request_detail", args=[loser.pk])
    before = client.get(url).content.decode()
    assert "Заявку ставим в лист ожидания" in before
    assert "Место в листе ожидания" not in before

    followed_up()
    after = client.get(url).content.decode()
    entry = WaitlistEntry.objects.get(patient=loser.patient)
    assert "Заявку ставим в лист ожидания" not in after
    assert f"{reverse('waitlist:entry_list')}#entry-{entry.pk}" in after


def test_a_loser_the_waitlist_refused_is_not_told_it_is_on_its_way_after_the_follow_up(
    client, ballot
):
    """Already waiting in the specialty (another day): the follow-up adds no entry, and
    the page then says nothing of one."""
    _drawn_with_losers(ballot)
    loser = _lost()[0]
    WaitlistEntry.objects.create(
        patient=loser.patient,
        created_by=loser.made_by,
        clinic=ballot.clinic,
        specialty=ballot.specialty,
        date_from=ballot.day + datetime.timedelta(days=1),
        date_to=ballot.day + datetime.timedelta(days=1),
    )
    followed_up()
    client.force_login(loser.patient.user)
    page = client.get(reverse("release:request_detail", args=[loser.pk])).content.decode()
    assert "Заявку ставим в лист ожидания" not in page
    assert "Место в листе ожидания" not in page


def test_draws_finished_before_the_follow_up_was_a_task_are_not_followed_up_again(ballot):
    """The migration marks every finished draw followed up: the sweep leaves them alone."""
    draw = _drawn_with_losers(ballot)
    DBTaskResult.objects.filter(task_path=FOLLOW_UP).delete()
    migration = importlib.import_module("portal.release.migrations.0003_draw_followed_up_at")
    migration.finished_draws_followed_up(apps, None)
    assert Draw.objects.get(pk=draw.pk).followed_up_at == Draw.objects.get(pk=draw.pk).finished_at
    late = timezone.now() + datetime.timedelta(days=1)
    assert follow_up.follow_ups_missing(now=late) == 0
    assert not WaitlistEntry.objects.exists()
