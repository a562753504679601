"""The draws of «Запись при открытии дня» at their opening moment (docs/fair-release.md).

Claimed under the ballot row locks with a fresh secret seed and the inputs' snapshot each,
then run by the pure `allocation` with the booking service as its booker; a draw that
stopped half-way is finished with its stored seed and inputs. Runs from the task queue
(`release.tasks`, one ballot) and from `release_draws` (every due ballot at once).

Every due draw is run together, in a fixed number of statements whatever the number of
ballots, requests and slots (docs/performance.md, issue 25): one claim transaction, one
read of the requests, one booking transaction (`scheduling.draw_booking`) in which each
ballot's allocation is decided in memory in turn, one transaction recording the results
(`draw_results`) and asking a task worker for the waitlist and the messages
(`follow_up`).
"""

import datetime
import functools
import logging
import operator
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from portal.audit.models import AuditAction
from portal.audit.services import AuditEntry, audit_record_many
from portal.core.locking import lock_timeout_set
from portal.identity.models import User
from portal.patients.selectors import Actable, actables_by
from portal.release import allocation, draw_results
from portal.release.models import Ballot, BallotRequest, Draw
from portal.release.selectors import ballot_slots
from portal.scheduling.draw_booking import Book, DrawAsk, appointments_book_for_draw
from portal.scheduling.models import Slot
from portal.scheduling.services import slots_reserve_for_draw

logger = logging.getLogger(__name__)

# What a test switches off to show the race it prevents (tests/release/test_draw_race.py).
PROTECT_BALLOT_CLAIM = True
PROTECT_RESERVATION = True


def ballot_slot_ids(ballot: Ballot) -> list[int]:
    """The ballot's slots: the day's slots of its place that open by its moment (a slot
    that opens later is not given out by this draw)."""
    return list(_ballot_slots(ballot).values_list("pk", flat=True))


def _ballot_slots(ballot: Ballot) -> QuerySet[Slot]:
    slots = ballot_slots(ballot.clinic_id, ballot.specialty_id, ballot.day)
    return slots.filter(opens_at__lte=ballot.opens_at)


def _slots_of(ballots: Sequence[Ballot]) -> QuerySet[Slot]:
    """The slots of every ballot given, in one statement (each ballot's place and day)."""
    return functools.reduce(operator.or_, (_ballot_slots(b) for b in ballots))


def _inputs(ballots: Sequence[Ballot], now: datetime.datetime) -> dict[int, dict[str, Any]]:
    """The snapshot each draw and every replay work from: its waiting requests and its
    kept slots (ballot → inputs), read for all the ballots at once."""
    tz = ZoneInfo(settings.TIME_ZONE)
    # Plain values, not 500 instances and their prefetched doctors (docs/performance.md).
    waiting = BallotRequest.objects.filter(
        ballot__in=ballots, status=BallotRequest.Status.PENDING
    ).order_by("pk")
    chosen: dict[int, list[int]] = {}
    for request_id, doctor_id in BallotRequest.doctors.through.objects.filter(
        ballotrequest__in=waiting
    ).values_list("ballotrequest_id", "doctor_id"):
        chosen.setdefault(request_id, []).append(doctor_id)
    slots = (
        _slots_of(ballots)
        .filter(status=Slot.Status.FREE, held_for__isnull=True, held_until__gt=now)
        .select_related("doctor")
        .order_by("starts_at", "doctor_id", "pk")
    )
    requests_of: dict[int, list[dict[str, Any]]] = {b.pk: [] for b in ballots}
    for pk, ballot_id, patient_id, times in waiting.values_list(
        "pk", "ballot_id", "patient_id", "times"
    ):
        requests_of[ballot_id].append(
            {
                "id": pk,
                "patient": patient_id,
                "doctors": sorted(chosen.get(pk, ())),
                "times": times,
            }
        )
    # A ballot is one place and day, so a slot belongs to exactly one of them.
    place = {(b.clinic_id, b.specialty_id, b.day): b.pk for b in ballots}
    slots_of: dict[int, list[dict[str, Any]]] = {b.pk: [] for b in ballots}
    for s in slots:
        local = s.starts_at.astimezone(tz)
        slots_of[place[s.doctor.clinic_id, s.doctor.specialty_id, local.date()]].append(
            {
                "id": s.pk,
                "doctor": s.doctor_id,
                "starts_at": s.starts_at.astimezone(datetime.UTC).isoformat(),
                "local_time": local.strftime("%H:%M"),
            }
        )
    return {
        b.pk: {
            "ballot": b.pk,
            "clinic": b.clinic_id,
            "specialty": b.specialty_id,
            "day": b.day.isoformat(),
            "requests": requests_of[b.pk],
            "slots": slots_of[b.pk],
        }
        for b in ballots
    }


seeds_made = 0  # how many seeds were drawn in this process (the race test counts them)


@dataclass(frozen=True)
class Claim:
    draw: Draw
    run: bool  # False: another worker runs (or ran) it


def _claim(ballot_ids: Sequence[int], actor: User | None, now: datetime.datetime) -> list[Claim]:
    """Start each due ballot's one draw: under the ballot row locks (ascending id),
    collecting → drawing, with a fresh secret seed and the inputs' snapshot stored before
    anything is booked.

    A second worker waits for the locks and then finds the draws already there; it runs
    one only if it stopped half-way long ago (`RELEASE_DRAW_RESUME_SECONDS`: a worker
    died), with the stored seed and inputs. A cancelled ballot, or one not due yet, has no
    claim.
    """
    with transaction.atomic():
        lock_timeout_set()
        rows = Ballot.objects.filter(pk__in=ballot_ids).order_by("pk")
        if PROTECT_BALLOT_CLAIM:
            rows = rows.select_for_update()
        ballots = list(rows)
        started = [b for b in ballots if b.status in (Ballot.Status.DRAWING, Ballot.Status.DRAWN)]
        stale = now - datetime.timedelta(seconds=settings.RELEASE_DRAW_RESUME_SECONDS)
        claims = [
            Claim(draw, run=draw.finished_at is None and draw.started_at < stale)
            for draw in (
                Draw.objects.filter(ballot__in=started).order_by("ballot_id") if started else []
            )
        ]
        due = [b for b in ballots if b.status == Ballot.Status.COLLECTING and b.opens_at <= now]
        if due:
            claims += [Claim(draw, run=True) for draw in _draws_start(due, actor, now)]
        return claims


def _draws_start(ballots: list[Ballot], actor: User | None, now: datetime.datetime) -> list[Draw]:
    global seeds_made
    # Slots made since the ballot opened (a schedule change) are kept too.
    if PROTECT_RESERVATION:
        slots_reserve_for_draw(slot_ids=list(_slots_of(ballots).values_list("pk", flat=True)))
    inputs = _inputs(ballots, now)
    seeds = {b.pk: secrets.token_hex(32) for b in ballots}
    seeds_made += len(seeds)
    draws = Draw.objects.bulk_create(
        [
            Draw(ballot=b, seed=seeds[b.pk], inputs=inputs[b.pk], started_at=now, ran_by=actor)
            for b in ballots
        ]
    )
    # The append-only journal keeps the seed's and the inputs' digests before anything
    # is booked: a replay compares the stored draw with them (`selectors.draw_replay`).
    audit_record_many(
        AuditEntry(
            AuditAction.RELEASE_DRAWN,
            actor.pk if actor is not None else None,
            None,
            {
                "ballot": d.ballot_id,
                "draw": d.pk,
                "requests": len(d.inputs["requests"]),
                "slots": len(d.inputs["slots"]),
                "seed_sha256": allocation.seed_digest(d.seed),
                "inputs_sha256": allocation.inputs_digest(d.inputs),
            },
        )
        for d in draws
    )
    Ballot.objects.filter(pk__in=[b.pk for b in ballots]).update(status=Ballot.Status.DRAWING)
    return draws


def _booker(
    book: Book,
    asks: dict[int, DrawAsk],
    rows: dict[int, BallotRequest],
    actables: dict[int, Actable],
    refusals: list[list[Any]],
) -> allocation.Book:
    """The live draw's booking: the booking service's answer, every refusal recorded."""

    def booker(request: allocation.RequestIn, slot: allocation.SlotIn) -> str | None:
        row = rows[request.id]
        # The draw acts for whoever asked: they must still be allowed to (a guardian revoked).
        if row.patient_id not in actables[row.made_by_id].all:
            code: str | None = "release_not_actable"
        else:
            code = book(asks[request.id], slot.id)
        if code is not None:
            refusals.append([request.id, slot.id, code])
        return code

    return booker


def _book(
    draws: list[Draw], rows: dict[int, BallotRequest], parsed: dict[int, draw_results.Parsed]
) -> tuple[dict[int, draw_results.Decision], dict[uuid.UUID, int]]:
    """Every draw's allocation, decided and booked in the booking service's one
    transaction: the pure `allocation.allocate` of each draw in turn asks the booking's
    rules for each (request, slot) under the locks of every requesting patient and every
    slot (`scheduling.draw_booking`); every refusal it meets is recorded for the replay.
    Returns draw → (allocation, refusals), and key → appointment."""
    actables = actables_by({row.made_by_id for row in rows.values()})
    draw_of = {d.ballot_id: d.pk for d in draws}
    asks = {
        row.pk: DrawAsk(
            row.patient_id, row.made_by, draw_results.key(draw_of[row.ballot_id], row.pk)
        )
        for row in rows.values()
    }

    def decide(book: Book) -> dict[int, draw_results.Decision]:
        decided: dict[int, draw_results.Decision] = {}
        for draw in draws:
            refusals: list[list[Any]] = []
            booker = _booker(book, asks, rows, actables, refusals)
            requests, slots = parsed[draw.pk]
            decided[draw.pk] = (allocation.allocate(draw.seed, requests, slots, booker), refusals)
        return decided

    slot_ids = [s.id for _, slots in parsed.values() for s in slots]
    booked = appointments_book_for_draw(asks=list(asks.values()), slot_ids=slot_ids, decide=decide)
    return booked.decided, booked.appointments


def _run(draws: list[Draw]) -> list[Draw]:
    """Run claimed draws to the end; returns them finished."""
    if not draws:
        return []
    parsed = {d.pk: allocation.inputs_parse(d.inputs) for d in draws}
    ids = [r.id for requests, _ in parsed.values() for r in requests]
    # Who asked is the booking's actor; the patient is needed by id only.
    rows = {
        row.pk: row for row in BallotRequest.objects.filter(pk__in=ids).select_related("made_by")
    }
    decided, appointments = _book(draws, rows, parsed)
    return draw_results.record(draws, decided, rows, appointments, draw_results.fits_of(parsed))


def draws_run(
    ballot_ids: Sequence[int], *, actor: User | None = None, now: datetime.datetime | None = None
) -> list[Draw]:
    """Run the ballots' draws that are due, together (idempotent: a finished draw is
    returned as is; one that stopped half-way is finished with its stored seed and
    inputs, its bookings replayed by their keys). A ballot not due or cancelled has none."""
    if not ballot_ids:
        return []
    claims = _claim(ballot_ids, actor, now or timezone.now())
    ran = {d.pk: d for d in _run([c.draw for c in claims if c.run])}
    return [ran.get(c.draw.pk, c.draw) for c in claims]


def draw_run(
    *, ballot_id: int, actor: User | None = None, now: datetime.datetime | None = None
) -> Draw | None:
    """Run one ballot's draw if it is due (`draws_run`); None if it is not due or was
    cancelled."""
    drawn = draws_run([ballot_id], actor=actor, now=now)
    return drawn[0] if drawn else None


def draws_due(now: datetime.datetime | None = None) -> list[Draw]:
    """Run every draw whose moment has come, together (the fallback of the task queue)."""
    now = now or timezone.now()
    due = Ballot.objects.filter(
        status__in=[Ballot.Status.COLLECTING, Ballot.Status.DRAWING], opens_at__lte=now
    ).values_list("pk", flat=True)
    return draws_run(list(due), now=now)
