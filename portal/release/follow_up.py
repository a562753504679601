"""After a draw's results, by a task worker: the losers on the waitlist and told, and what
nobody won offered to whoever waits (docs/fair-release.md, «The draw», step 5).

The results and the ask for this task commit together (`follow_up_later`, called inside
`draw_results.record`): a draw whose results are recorded is always followed up, even if
the process that drew dies the moment after, and the draw ends at its results, which is
what the patients polling the result page wait for (docs/performance.md). Until the task
has run, a loser's page says the waitlist entry is on its way.

Everything is rebuilt from what the draw stored — its inputs, its allocation, each
request's result — so the task can run again: a retry, or the sweep for a follow-up still
missing long after (`follow_ups_missing`, from `manage.py release_draws`). Each part then
happens once: the waitlist's rules keep one live entry per patient and specialty; the
messages are asked for in the transaction that marks the draw followed up; a slot is
offered only while it is free (`waitlist.services.slot_freed`).
"""

import datetime
import functools
import logging
import operator
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from portal.core.locking import lock_timeout_set
from portal.release import allocation
from portal.release.losers import Told, losers_tell_later
from portal.release.models import BallotRequest, Draw, Times
from portal.release.selectors import ballot_slots, waitlisted_for_the_day
from portal.scheduling.selectors import bookable_q
from portal.waitlist.joins import Joiner, entries_join_many
from portal.waitlist.services import slot_freed

logger = logging.getLogger(__name__)

# What a test switches off to show the race it prevents (tests/release/test_follow_up_race.py).
PROTECT_FOLLOW_UP = True

# The ballot's times of day in the waitlist's parts of the day ("" = any time).
WAITLIST_TIMES = {Times.ANY: "", Times.MORNING: "morning", Times.AFTERNOON: "afternoon,evening"}


def follow_up_later(draw_ids: Sequence[int]) -> None:
    """Ask a task worker to follow the draws up; inside the results' transaction, so the
    ask commits (or not) with them.

    Not before RELEASE_FOLLOW_UP_DELAY_SECONDS: at the opening every patient of the ballot
    asks for a page at once, and the follow-up (0.6 s of CPU for the bench's 22 ballots)
    would take a quarter of a two-core node from them (docs/performance.md, «The draw's
    follow-up after the opening's burst»). The results are what the patients wait for, and
    they are recorded before this; a loser's page says the waitlist entry is on its way
    until the follow-up has run."""
    if draw_ids:
        at = timezone.now() + datetime.timedelta(seconds=settings.RELEASE_FOLLOW_UP_DELAY_SECONDS)
        draws_follow_up.using(run_after=at).enqueue(sorted(draw_ids))


@task()
def draws_follow_up(draw_ids: list[int]) -> int:
    return follow_up(draw_ids)


def follow_ups_missing(now: datetime.datetime | None = None) -> int:
    """Follow up every draw finished long ago (`RELEASE_DRAW_RESUME_SECONDS`) that still
    is not: the task was lost with its worker, or the queue is down. Returns how many."""
    stale = (now or timezone.now()) - datetime.timedelta(
        seconds=settings.RELEASE_DRAW_RESUME_SECONDS
    )
    missing = Draw.objects.filter(finished_at__lt=stale, followed_up_at__isnull=True)
    return follow_up(list(missing.values_list("pk", flat=True)))


def follow_up(draw_ids: Sequence[int]) -> int:
    """Follow up the finished draws among these that are not yet; returns how many this
    call followed up (a twin running at the same time follows up the rest)."""
    draws = list(
        Draw.objects.filter(pk__in=draw_ids, finished_at__isnull=False, followed_up_at__isnull=True)
        .select_related("ballot")
        .order_by("ballot_id")
    )
    if not draws:
        return 0
    losers = _losers(draws)
    fits = _fits(losers)
    joiners = _joiners(draws, losers, fits)
    entries_join_many(joiners)
    # Who is on the day's waitlist now, whoever put them there: this run, or an earlier
    # run of the same follow-up that stopped before telling (the result page reads the
    # same entry: `selectors.lost_why`).
    joined = waitlisted_for_the_day(
        [(j.ref, j.patient.pk, j.specialty_id, j.date_from) for j in joiners]
    )
    mine = _told(draws, losers, joined, fits)
    _free_to_waitlist([d for d in draws if d.pk in mine], losers, joined)
    return len(mine)


def _losers(draws: list[Draw]) -> dict[int, list[BallotRequest]]:
    """Draw → its requests that got no time, in draw order."""
    of_ballot: dict[int, list[BallotRequest]] = {d.ballot_id: [] for d in draws}
    rows = (
        BallotRequest.objects.filter(
            ballot_id__in=of_ballot,
            status__in=[BallotRequest.Status.LOST, BallotRequest.Status.REFUSED],
        )
        .select_related("patient", "made_by")
        .order_by("ballot_id", "position", "pk")
    )
    for row in rows:
        of_ballot[row.ballot_id].append(row)
    return {d.pk: of_ballot[d.ballot_id] for d in draws}


def _fits(losers: dict[int, list[BallotRequest]]) -> dict[int, int]:
    """Request → how many of the day's times it would take, as the draw stored it (every
    draw since it was a task stores it; older draws were followed up by the draw)."""
    return {row.pk: row.fitting or 0 for rows in losers.values() for row in rows}


def _joiners(
    draws: list[Draw], losers: dict[int, list[BallotRequest]], fits: dict[int, int]
) -> list[Joiner]:
    """The losers who join the waitlist, in draw order (`waitlist.joins.entries_join_many`:
    the rules of `entry_join`, one write for them all), for the ballot's day, doctor (when
    they chose one) and times — only those whose choice fitted one of the day's times: an
    entry for a part of the day with no times could never match. A refusal of the
    waitlist's rules (already waiting in this specialty, …) leaves the loser «не выпало»,
    told so in the message."""
    joiners = []
    for draw in draws:
        requests, _slots = allocation.inputs_parse(draw.inputs)
        doctors = {r.id: r.doctors for r in requests}
        joiners += [
            Joiner(
                ref=row.pk,
                actor=row.made_by,
                patient=row.patient,
                clinic_id=draw.ballot.clinic_id,
                specialty_id=draw.ballot.specialty_id,
                doctor_id=doctors[row.pk][0] if len(doctors.get(row.pk, ())) == 1 else None,
                date_from=draw.ballot.day,
                date_to=draw.ballot.day,
                times=WAITLIST_TIMES[Times(row.times)],
            )
            for row in losers[draw.pk]
            if row.status == BallotRequest.Status.LOST and fits.get(row.pk)
        ]
    return joiners


@transaction.atomic
def _told(
    draws: list[Draw],
    losers: dict[int, list[BallotRequest]],
    joined: set[int],
    fits: dict[int, int],
) -> set[int]:
    """Mark the draws followed up and ask for their losers' messages, in one transaction
    under the draws' row locks: a twin run waits, then finds them marked and tells no one
    twice. Returns the draws this run marked."""
    lock_timeout_set()
    rows = Draw.objects.filter(pk__in=[d.pk for d in draws], followed_up_at__isnull=True)
    if PROTECT_FOLLOW_UP:
        rows = rows.select_for_update()
    mine = set(rows.order_by("pk").values_list("pk", flat=True))
    losers_tell_later(
        [
            Told(
                request_id=row.pk,
                waitlisted=row.pk in joined,
                none_fit=row.status == BallotRequest.Status.LOST and not fits.get(row.pk),
            )
            for draw in draws
            if draw.pk in mine
            for row in losers[draw.pk]
        ]
    )
    Draw.objects.filter(pk__in=mine).update(followed_up_at=timezone.now())
    return mine


def _released(draw: Draw) -> list[int]:
    """The draw's slots nobody won: free for everyone since its results."""
    given = {a["slot"] for a in draw.allocation.values() if a.get("slot") is not None}
    return [s["id"] for s in draw.inputs["slots"] if s["id"] not in given]


def _free_to_waitlist(
    draws: list[Draw], losers: dict[int, list[BallotRequest]], joined: set[int]
) -> None:
    """What the draws did not give goes first to whoever waits for it (`slot_freed`).

    Where losers were just put on the waitlist, the day's free times of the place are
    offered too, once for the group: what `entry_join` would have offered each of them."""
    offered = [pk for d in draws for pk in _released(d)]
    places = [d.ballot for d in draws if any(r.pk in joined for r in losers[d.pk])]
    if places:
        now = timezone.now()
        free = functools.reduce(
            operator.or_, (ballot_slots(b.clinic_id, b.specialty_id, b.day) for b in places)
        )
        limit = sum(1 for d in draws for r in losers[d.pk] if r.pk in joined)
        more = free.filter(bookable_q(now)).order_by("starts_at", "pk").values_list("pk", flat=True)
        offered += [pk for pk in more[:limit] if pk not in offered]
    for slot_id in offered:
        try:
            slot_freed(slot_id)
        except Exception:  # the slot stays free for everyone; the next freed slot retries
            logger.exception("offering slot %s to the waitlist failed", slot_id)
