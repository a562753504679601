"""The draw of «Запись при открытии дня» at its opening moment (docs/fair-release.md).

Claimed under the ballot row lock with a fresh secret seed and the inputs' snapshot, then
run by the pure `allocation` with the booking service as its booker; a draw that stopped
half-way is finished with its stored seed and inputs. Runs from the task queue
(`release.tasks`) and from `release_draws`, the fallback when the queue is down.
"""

import datetime
import logging
import secrets
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone

from portal.audit.models import AuditAction
from portal.audit.services import audit_record
from portal.core.locking import lock_timeout_set
from portal.identity.models import User
from portal.notifications.services import ballot_lost_notify
from portal.patients.selectors import patient_ids_actable_by
from portal.release import allocation
from portal.release.models import Ballot, BallotRequest, Draw, Times
from portal.release.selectors import ballot_slots
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Slot
from portal.scheduling.services import (
    appointment_book_from_draw,
    slots_release_from_draw,
    slots_reserve_for_draw,
)
from portal.waitlist.errors import WaitlistRefused
from portal.waitlist.services import entry_join, slot_freed

logger = logging.getLogger(__name__)

# uuid5 namespace of the draw's idempotency keys: draw + request → always the same key.
DRAW_KEYS = uuid.UUID("6f1d8a52-3c4e-4b7a-9e21-5d0c7f4a9b13")

# What a test switches off to show the race it prevents (tests/release/test_draw_race.py).
PROTECT_BALLOT_CLAIM = True
PROTECT_RESERVATION = True


def ballot_slot_ids(ballot: Ballot) -> list[int]:
    """The ballot's slots: the day's slots of its place that open by its moment (a slot
    that opens later is not given out by this draw)."""
    slots = ballot_slots(ballot.clinic_id, ballot.specialty_id, ballot.day)
    return list(slots.filter(opens_at__lte=ballot.opens_at).values_list("pk", flat=True))


def _inputs(ballot: Ballot) -> dict[str, Any]:
    """The snapshot the draw and every replay work from: requests and kept slots."""
    tz = ZoneInfo(settings.TIME_ZONE)
    now = timezone.now()
    requests = (
        BallotRequest.objects.filter(ballot=ballot, status=BallotRequest.Status.PENDING)
        .prefetch_related("doctors")
        .order_by("pk")
    )
    slots = (
        ballot_slots(ballot.clinic_id, ballot.specialty_id, ballot.day)
        .filter(
            status=Slot.Status.FREE,
            held_for__isnull=True,
            held_until__gt=now,
            opens_at__lte=ballot.opens_at,
        )
        .order_by("starts_at", "doctor_id", "pk")
    )
    return {
        "ballot": ballot.pk,
        "clinic": ballot.clinic_id,
        "specialty": ballot.specialty_id,
        "day": ballot.day.isoformat(),
        "requests": [
            {
                "id": r.pk,
                "patient": r.patient_id,
                "doctors": sorted(d.pk for d in r.doctors.all()),
                "times": r.times,
            }
            for r in requests
        ],
        "slots": [
            {
                "id": s.pk,
                "doctor": s.doctor_id,
                "starts_at": s.starts_at.astimezone(datetime.UTC).isoformat(),
                "local_time": s.starts_at.astimezone(tz).strftime("%H:%M"),
            }
            for s in slots
        ],
    }


seeds_made = 0  # how many seeds were drawn in this process (the race test counts them)


@dataclass(frozen=True)
class Claim:
    draw: Draw
    run: bool  # False: another worker runs (or ran) it


def _claim(ballot_id: int, actor: User | None, now: datetime.datetime) -> Claim | None:
    """Start the ballot's one draw: under the ballot row lock, collecting → drawing, with a
    fresh secret seed and the inputs' snapshot stored before anything is booked.

    A second worker waits for the lock and then finds the draw already there; it runs it
    only if it stopped half-way long ago (`RELEASE_DRAW_RESUME_SECONDS`: a worker died),
    with the stored seed and inputs. None: cancelled, or not due yet.
    """
    global seeds_made
    with transaction.atomic():
        lock_timeout_set()
        rows = Ballot.objects.filter(pk=ballot_id)
        if PROTECT_BALLOT_CLAIM:
            rows = rows.select_for_update()
        ballot = rows.get()
        if ballot.status in (Ballot.Status.DRAWING, Ballot.Status.DRAWN):
            draw = Draw.objects.get(ballot=ballot)
            stale = now - datetime.timedelta(seconds=settings.RELEASE_DRAW_RESUME_SECONDS)
            return Claim(draw, run=draw.finished_at is None and draw.started_at < stale)
        if ballot.status != Ballot.Status.COLLECTING or ballot.opens_at > now:
            return None
        # Slots made since the ballot opened (a schedule change) are kept too.
        if PROTECT_RESERVATION:
            slots_reserve_for_draw(slot_ids=ballot_slot_ids(ballot))
        seed = secrets.token_hex(32)
        seeds_made += 1
        inputs = _inputs(ballot)
        draw = Draw.objects.create(
            ballot=ballot, seed=seed, inputs=inputs, started_at=now, ran_by=actor
        )
        # The append-only journal keeps the seed's and the inputs' digests before anything
        # is booked: a replay compares the stored draw with them (`selectors.draw_replay`).
        audit_record(
            AuditAction.RELEASE_DRAWN,
            actor=actor,
            ip=None,
            ballot=ballot.pk,
            draw=draw.pk,
            requests=len(inputs["requests"]),
            slots=len(inputs["slots"]),
            seed_sha256=allocation.seed_digest(seed),
            inputs_sha256=allocation.inputs_digest(inputs),
        )
        Ballot.objects.filter(pk=ballot.pk).update(status=Ballot.Status.DRAWING)
        return Claim(draw, run=True)


def _booker(draw: Draw, refusals: list[list[Any]]) -> allocation.Book:
    """The live draw's booking: the booking service, recording every refusal it meets."""
    requests = {
        r.pk: r
        for r in BallotRequest.objects.filter(ballot_id=draw.ballot_id).select_related(
            "made_by", "patient"
        )
    }
    actable: dict[int, list[int]] = {}

    def book(request: allocation.RequestIn, slot: allocation.SlotIn) -> str | None:
        row = requests[request.id]
        # The draw acts for whoever asked: they must still be allowed to (a guardian revoked).
        if row.made_by_id not in actable:
            actable[row.made_by_id] = patient_ids_actable_by(row.made_by)
        if row.patient_id not in actable[row.made_by_id]:
            code: str | None = "release_not_actable"
        else:
            key = uuid.uuid5(DRAW_KEYS, f"{draw.pk}:{request.id}")
            try:
                appointment_book_from_draw(
                    actor=row.made_by, patient=row.patient, slot_id=slot.id, idempotency_key=key
                )
                code = None
            except BookingRefused as refused:
                code = refused.code
        if code is not None:
            refusals.append([request.id, slot.id, code])
        return code

    return book


def draw_run(
    *, ballot_id: int, actor: User | None = None, now: datetime.datetime | None = None
) -> Draw | None:
    """Run the ballot's draw if it is due (idempotent: a finished draw is returned as is;
    one that stopped half-way is finished with its stored seed and inputs, its bookings
    replayed by their keys). None if the ballot is not due or was cancelled."""
    now = now or timezone.now()
    claim = _claim(ballot_id, actor, now)
    if claim is None:
        return None
    draw = claim.draw
    if not claim.run:
        return draw
    requests, slots = allocation.inputs_parse(draw.inputs)
    refusals: list[list[Any]] = []
    result = allocation.allocate(draw.seed, requests, slots, _booker(draw, refusals))
    draw, losers, released = _finish(draw, result, refusals)
    # A request none of whose times existed on the day lost for that reason alone: it is
    # told so, and not put on a waitlist that could never match (issue 27).
    fits = {r.id: allocation.fitting(r, slots) for r in requests}
    # After the draw's commit, each in its own transaction (the waitlist's are durable):
    # losers join the waitlist in draw order and hear of their result; what nobody in the
    # draw accepted goes to whoever waits for it, then to everyone.
    joined = _losers_to_waitlist(draw.ballot, [r for r in losers if fits.get(r.pk)])
    _losers_notify(draw.ballot, losers, joined, fits)
    _released_to_waitlist(released)
    return draw


# The ballot's times of day in the waitlist's parts of the day ("" = any time).
WAITLIST_TIMES = {Times.ANY: "", Times.MORNING: "morning", Times.AFTERNOON: "afternoon,evening"}


@transaction.atomic
def _finish(
    draw: Draw, result: dict[int, allocation.Outcome], refusals: list[list[Any]]
) -> tuple[Draw, list[BallotRequest], list[int]]:
    """Record the result in one transaction: requests, audit, the draw; release the rest.
    Returns the draw, the losers in draw order and the released slots."""
    ballot = Ballot.objects.select_for_update().select_related("clinic").get(pk=draw.ballot_id)
    draw = Draw.objects.select_for_update().select_related("ballot__clinic").get(pk=draw.pk)
    if draw.finished_at is not None:  # a twin finished first
        return draw, [], []
    now = timezone.now()
    rows = BallotRequest.objects.filter(pk__in=list(result)).select_related("patient", "made_by")
    by_slot_appointment = _appointments_booked(draw, result)
    for row in rows:
        outcome = result[row.pk]
        row.position = outcome.position
        row.decided_at = now
        row.refusal = outcome.refusal
        if outcome.outcome == allocation.WON and outcome.slot is not None:
            row.status = BallotRequest.Status.WON
            row.appointment_id = by_slot_appointment.get(outcome.slot)
            audit_record(
                AuditAction.RELEASE_ALLOCATED,
                actor=None,
                ip=None,
                patient=row.patient,
                request=row.pk,
                draw=draw.pk,
                position=outcome.position,
                appointment=row.appointment_id,
            )
        else:
            row.status = (
                BallotRequest.Status.REFUSED
                if outcome.outcome == allocation.REFUSED
                else BallotRequest.Status.LOST
            )
            audit_record(
                AuditAction.RELEASE_NOT_ALLOCATED,
                actor=None,
                ip=None,
                patient=row.patient,
                request=row.pk,
                draw=draw.pk,
                position=outcome.position,
                **({"refusal": outcome.refusal} if outcome.refusal else {}),
            )
        row.save(update_fields=["status", "position", "decided_at", "refusal", "appointment"])
    losers = sorted(
        (r for r in rows if r.status != BallotRequest.Status.WON), key=lambda r: r.position or 0
    )
    draw.refusals = refusals
    draw.allocation = allocation.allocation_dump(result)
    draw.finished_at = now
    draw.save(update_fields=["refusals", "allocation", "finished_at"])
    Ballot.objects.filter(pk=ballot.pk).update(status=Ballot.Status.DRAWN)
    # What nobody won opens for everyone, at once.
    given = {o.slot for o in result.values() if o.slot is not None}
    rest = [s["id"] for s in draw.inputs["slots"] if s["id"] not in given]
    slots_release_from_draw(slot_ids=rest)
    return draw, losers, rest


def _losers_notify(
    ballot: Ballot, losers: list[BallotRequest], joined: set[int], fits: dict[int, int]
) -> None:
    day = formats.date_format(ballot.day, "d.m.Y")
    with transaction.atomic():
        for row in losers:
            ballot_lost_notify(
                patient=row.patient,
                made_by_id=row.made_by_id,
                request_id=row.pk,
                clinic=ballot.clinic.short_name,
                day=day,
                waitlisted=row.pk in joined,
                none_fit=row.status == BallotRequest.Status.LOST and not fits.get(row.pk),
            )


def _appointments_booked(draw: Draw, result: dict[int, allocation.Outcome]) -> dict[int, int]:
    from portal.scheduling.models import Appointment

    won = [o.slot for o in result.values() if o.slot is not None]
    return dict(
        Appointment.objects.filter(slot_id__in=won, status=Appointment.Status.BOOKED).values_list(
            "slot_id", "pk"
        )
    )


def _losers_to_waitlist(ballot: Ballot, losers: list[BallotRequest]) -> set[int]:
    """Losers join the waitlist in draw order (`waitlist.services.entry_join`, its own
    durable transaction each), for the ballot's day, doctor (when they chose one) and
    times. A refusal of the waitlist's rules (already waiting in this specialty, …)
    leaves the loser «не выпало», told so in the message."""
    joined: set[int] = set()
    for row in losers:
        if row.status != BallotRequest.Status.LOST:
            continue
        doctors = list(row.doctors.values_list("pk", flat=True))
        try:
            entry_join(
                actor=row.made_by,
                patient=row.patient,
                clinic_id=ballot.clinic_id,
                specialty_id=ballot.specialty_id,
                doctor_id=doctors[0] if len(doctors) == 1 else None,
                date_from=ballot.day,
                date_to=ballot.day,
                times=WAITLIST_TIMES[Times(row.times)],
                ip=None,
            )
        except WaitlistRefused as refused:
            logger.info("request %s not put on the waitlist: %s", row.pk, refused.code)
            continue
        joined.add(row.pk)
    return joined


def _released_to_waitlist(slot_ids: list[int]) -> None:
    """What the draw did not give goes first to whoever waits for it (`slot_freed`)."""
    for slot_id in slot_ids:
        try:
            slot_freed(slot_id)
        except Exception:  # the slot stays free for everyone; the next freed slot retries
            logger.exception("offering slot %s to the waitlist failed", slot_id)


def draws_due(now: datetime.datetime | None = None) -> list[Draw]:
    """Run every draw whose moment has come (the fallback of the task queue)."""
    now = now or timezone.now()
    due = Ballot.objects.filter(
        status__in=[Ballot.Status.COLLECTING, Ballot.Status.DRAWING], opens_at__lte=now
    ).values_list("pk", flat=True)
    return [d for pk in due if (d := draw_run(ballot_id=pk, now=now)) is not None]
