"""Telling a draw's losers, by a task worker after the draw (docs/fair-release.md).

The draw records every result and puts the losers on the waitlist; the result page shows
both at once. Writing the losers' messages — two for each of the rush's 450 losers, every
one rendered for its recipient — was a third of the draw's time (docs/performance.md),
while nobody waits on them: the draw leaves them to a task, as a booking leaves its
confirmation to the outbox's worker (docs/notifications.md). The task is asked for after
the draw's results and the waitlist entries have committed, with what the draw decided
for each loser (waitlisted, none of the chosen times existed).
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import formats
from django_tasks import task

from portal.notifications.services import BallotLost, ballots_lost_notify
from portal.release.models import BallotRequest


@dataclass(frozen=True)
class Told:
    """One loser's message as the draw decided it."""

    request_id: int
    waitlisted: bool
    none_fit: bool


def losers_tell_later(told: list[Told]) -> None:
    """Ask a task worker to write the losers' messages (one task for the whole draw)."""
    if told:
        losers_tell.enqueue([[t.request_id, int(t.waitlisted), int(t.none_fit)] for t in told])


@task()
def losers_tell(told: list[list[int]]) -> int:
    """Write the messages of ``[request id, waitlisted, none fit]`` in one statement;
    returns how many. A request the worker cannot find any more is skipped."""
    decided = {int(r): (bool(w), bool(n)) for r, w, n in told}
    rows = BallotRequest.objects.filter(pk__in=decided).select_related(
        "patient__notification_preference", "ballot__clinic"
    )
    losers = [
        BallotLost(
            patient=row.patient,
            made_by_id=row.made_by_id,
            request_id=row.pk,
            clinic=row.ballot.clinic.short_name,
            day=formats.date_format(row.ballot.day, "d.m.Y"),
            waitlisted=decided[row.pk][0],
            none_fit=decided[row.pk][1],
        )
        for row in rows.order_by("position", "pk")
    ]
    if not losers:
        return 0
    with transaction.atomic():
        return len(ballots_lost_notify(losers))
