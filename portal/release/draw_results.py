"""What the draws decided, recorded and told (docs/fair-release.md, «The draw», steps 4–5).

`record`: one transaction for all the draws run together — every request's place and
result, the journal's events, the stored allocation and refusals, the ballots drawn, the
slots nobody won released — in bulk. `after_commit`: the losers on the waitlist, what is
free offered to the waitlist, each in its own transaction(s), also in bulk; the losers'
messages asked of a task worker (`release.losers`).
"""

import datetime
import functools
import logging
import operator
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from portal.audit.models import AuditAction
from portal.audit.services import AuditEntry, audit_record_many
from portal.core.locking import lock_timeout_set
from portal.release import allocation
from portal.release.losers import Told, losers_tell_later
from portal.release.models import Ballot, BallotRequest, Draw, Times
from portal.release.selectors import ballot_slots
from portal.scheduling.selectors import bookable_q
from portal.scheduling.services import slots_release_from_draw
from portal.waitlist.joins import Joiner, entries_join_many
from portal.waitlist.services import slot_freed

logger = logging.getLogger(__name__)

# uuid5 namespace of the draw's idempotency keys: draw + request → always the same key.
DRAW_KEYS = uuid.UUID("6f1d8a52-3c4e-4b7a-9e21-5d0c7f4a9b13")

# The ballot's times of day in the waitlist's parts of the day ("" = any time).
WAITLIST_TIMES = {Times.ANY: "", Times.MORNING: "morning", Times.AFTERNOON: "afternoon,evening"}

Decision = tuple[dict[int, allocation.Outcome], list[list[Any]]]  # allocation, refusals
Parsed = tuple[list[allocation.RequestIn], list[allocation.SlotIn]]


def key(draw_id: int, request_id: int) -> uuid.UUID:
    """The booking's idempotency key: running the draw again replays, never books twice."""
    return uuid.uuid5(DRAW_KEYS, f"{draw_id}:{request_id}")


@dataclass(frozen=True)
class Finished:
    draw: Draw
    losers: list[BallotRequest]  # in draw order; empty when a twin finished it first
    released: list[int]  # slots nobody won, free for everyone now


def fits_of(parsed: dict[int, Parsed]) -> dict[int, int]:
    """Request → how many of its draw's times it would take (`allocation.fitting`)."""
    return {
        r.id: allocation.fitting(r, slots) for requests, slots in parsed.values() for r in requests
    }


def _decide_row(
    draw: Draw,
    row: BallotRequest,
    outcome: allocation.Outcome,
    appointments: dict[uuid.UUID, int],
    now: datetime.datetime,
    fitting: int | None,
) -> AuditEntry:
    """Set the request's place and result; the journal's event for it."""
    row.position, row.decided_at, row.refusal = outcome.position, now, outcome.refusal
    row.fitting = fitting
    details: dict[str, Any] = {"request": row.pk, "draw": draw.pk, "position": outcome.position}
    if outcome.outcome == allocation.WON and outcome.slot is not None:
        row.status = BallotRequest.Status.WON
        row.appointment_id = appointments.get(key(draw.pk, row.pk))
        details["appointment"] = row.appointment_id
        return AuditEntry(AuditAction.RELEASE_ALLOCATED, None, row.patient_id, details)
    row.status = (
        BallotRequest.Status.REFUSED
        if outcome.outcome == allocation.REFUSED
        else BallotRequest.Status.LOST
    )
    if outcome.refusal:
        details["refusal"] = outcome.refusal
    return AuditEntry(AuditAction.RELEASE_NOT_ALLOCATED, None, row.patient_id, details)


# Requests stored per statement: well within both engines' limits on parameters.
RESULTS_BATCH = 1000


def _requests_decided(rows: list[BallotRequest], now: datetime.datetime) -> None:
    """Store each request's result — status, refusal, place, appointment, fitting — in one
    ``UPDATE … FROM (VALUES …)`` per thousand requests (PostgreSQL and SQLite alike).
    `bulk_update` built a CASE expression per row and field, which took most of the
    draw's time for 500 requests; the rows are the ones this transaction read and locked
    (their ballot is locked), so only these values change."""
    table = connection.ops.quote_name(BallotRequest._meta.db_table)
    decided_at = BallotRequest._meta.get_field("decided_at").get_db_prep_value(now, connection)
    for start in range(0, len(rows), RESULTS_BATCH):
        batch = rows[start : start + RESULTS_BATCH]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(batch))
        params = [
            value
            for r in batch
            for value in (r.pk, r.status, r.refusal, r.position, r.appointment_id, r.fitting)
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET status = v.column2, refusal = v.column3, "
                "position = CAST(v.column4 AS integer), "
                "appointment_id = CAST(v.column5 AS bigint), "
                "fitting = CAST(v.column6 AS integer), decided_at = %s "
                f"FROM (VALUES {values}) AS v WHERE {table}.id = v.column1",
                [decided_at, *params],
            )


@transaction.atomic(durable=True)
def record(
    draws: Sequence[Draw],
    decided: dict[int, Decision],
    rows: dict[int, BallotRequest],
    appointments: dict[uuid.UUID, int],
    fits: dict[int, int],
) -> list[Finished]:
    """Record every draw's result in one transaction, in bulk: requests, journal, draws,
    ballots; release what nobody won. A draw a twin finished meanwhile is left as it is."""
    lock_timeout_set()
    ballot_ids = sorted(d.ballot_id for d in draws)
    list(Ballot.objects.select_for_update().filter(pk__in=ballot_ids).values_list("pk"))
    locked = (
        Draw.objects.select_for_update(of=("self",))
        .select_related("ballot__clinic")
        .filter(pk__in=[d.pk for d in draws])
        .order_by("ballot_id")
    )
    now = timezone.now()
    finished: list[Finished] = []
    changed: list[BallotRequest] = []
    events: list[AuditEntry] = []
    done: list[Draw] = []
    for draw in locked:
        if draw.finished_at is not None:  # a twin finished first
            finished.append(Finished(draw, [], []))
            continue
        result, refusals = decided[draw.pk]
        mine = [rows[request_id] for request_id in result]
        events += [
            _decide_row(draw, row, result[row.pk], appointments, now, fits.get(row.pk))
            for row in mine
        ]
        changed += mine
        draw.refusals = refusals
        draw.allocation = allocation.allocation_dump(result)
        draw.finished_at = now
        done.append(draw)
        # What nobody won opens for everyone, at once.
        given = {o.slot for o in result.values() if o.slot is not None}
        rest = [s["id"] for s in draw.inputs["slots"] if s["id"] not in given]
        losers = [r for r in mine if r.status != BallotRequest.Status.WON]
        finished.append(Finished(draw, sorted(losers, key=lambda r: r.position or 0), rest))
    if done:
        _requests_decided(changed, now)
        audit_record_many(events)
        Draw.objects.bulk_update(done, ["refusals", "allocation", "finished_at"])
        Ballot.objects.filter(pk__in=[d.ballot_id for d in done]).update(status=Ballot.Status.DRAWN)
        # Every slot of the draws: a booked one has no reservation left to end, and none
        # stays kept should a resumed draw's replayed booking sit elsewhere than allocated.
        slots_release_from_draw(slot_ids=[s["id"] for d in done for s in d.inputs["slots"]])
    return finished


def after_commit(finished: list[Finished], parsed: dict[int, Parsed], fits: dict[int, int]) -> None:
    """After the draws' commit, each in its own transaction (the waitlist's are durable):
    losers join the waitlist in draw order and hear of their result; what nobody in the
    draws accepted goes to whoever waits for it, then to everyone."""
    # A request none of whose times existed on the day lost for that reason alone: it is
    # told so, and not put on a waitlist that could never match (issue 27).
    doctors: dict[int, tuple[int, ...]] = {}
    for requests, _slots in (parsed[f.draw.pk] for f in finished):
        doctors.update({r.id: r.doctors for r in requests})
    joined = _losers_to_waitlist(finished, fits, doctors)
    _losers_notify(finished, joined, fits)
    _free_to_waitlist(finished, joined)


def _losers_to_waitlist(
    finished: list[Finished], fits: dict[int, int], doctors: dict[int, tuple[int, ...]]
) -> set[int]:
    """Losers join the waitlist in draw order (`waitlist.joins.entries_join_many`: the
    rules of `entry_join`, one write for them all), for the ballot's day, doctor (when
    they chose one) and times — only those whose choice fitted one of the day's times: an
    entry for a part of the day with no times could never match. A refusal of the
    waitlist's rules (already waiting in this specialty, …) leaves the loser «не выпало»,
    told so in the message."""
    joiners = [
        Joiner(
            ref=row.pk,
            actor=row.made_by,
            patient=row.patient,
            clinic_id=f.draw.ballot.clinic_id,
            specialty_id=f.draw.ballot.specialty_id,
            doctor_id=doctors[row.pk][0] if len(doctors.get(row.pk, ())) == 1 else None,
            date_from=f.draw.ballot.day,
            date_to=f.draw.ballot.day,
            times=WAITLIST_TIMES[Times(row.times)],
        )
        for f in finished
        for row in f.losers
        if row.status == BallotRequest.Status.LOST and fits.get(row.pk)
    ]
    return entries_join_many(joiners)


def _losers_notify(finished: list[Finished], joined: set[int], fits: dict[int, int]) -> None:
    """Every loser told, by a task worker (`release.losers`): the draw decides what each
    message says (waitlisted, none of the chosen times existed), the worker writes them."""
    losers_tell_later(
        [
            Told(
                request_id=row.pk,
                waitlisted=row.pk in joined,
                none_fit=row.status == BallotRequest.Status.LOST and not fits.get(row.pk),
            )
            for f in finished
            for row in f.losers
        ]
    )


def _free_to_waitlist(finished: list[Finished], joined: set[int]) -> None:
    """What the draws did not give goes first to whoever waits for it (`slot_freed`).

    Where losers were just put on the waitlist, the day's free times of the place are
    offered too, once for the group: what `entry_join` would have offered each of them."""
    offered = [pk for f in finished for pk in f.released]
    places = [f.draw.ballot for f in finished if any(r.pk in joined for r in f.losers)]
    if places:
        now = timezone.now()
        free = functools.reduce(
            operator.or_, (ballot_slots(b.clinic_id, b.specialty_id, b.day) for b in places)
        )
        limit = sum(1 for f in finished for r in f.losers if r.pk in joined)
        more = free.filter(bookable_q(now)).order_by("starts_at", "pk").values_list("pk", flat=True)
        offered += [pk for pk in more[:limit] if pk not in offered]
    for slot_id in offered:
        try:
            slot_freed(slot_id)
        except Exception:  # the slot stays free for everyone; the next freed slot retries
            logger.exception("offering slot %s to the waitlist failed", slot_id)
