"""What the draws decided, recorded (docs/fair-release.md, «The draw», step 4).

`record`: one transaction for all the draws run together — every request's place and
result, the journal's events, the stored allocation and refusals, the ballots drawn, the
slots nobody won released — in bulk, with the ask for their follow-up (the losers on the
waitlist and told, what is free offered to the waitlist: `release.follow_up`, a task).
"""

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from portal.audit.models import AuditAction
from portal.audit.services import AuditEntry, audit_record_many
from portal.core.locking import lock_timeout_set
from portal.release import allocation
from portal.release.follow_up import follow_up_later
from portal.release.models import Ballot, BallotRequest, Draw
from portal.scheduling.services import slots_release_from_draw

# uuid5 namespace of the draw's idempotency keys: draw + request → always the same key.
DRAW_KEYS = uuid.UUID("6f1d8a52-3c4e-4b7a-9e21-5d0c7f4a9b13")

Decision = tuple[dict[int, allocation.Outcome], list[list[Any]]]  # allocation, refusals
Parsed = tuple[list[allocation.RequestIn], list[allocation.SlotIn]]


def key(draw_id: int, request_id: int) -> uuid.UUID:
    """The booking's idempotency key: running the draw again replays, never books twice."""
    return uuid.uuid5(DRAW_KEYS, f"{draw_id}:{request_id}")


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
) -> list[Draw]:
    """Record every draw's result in one transaction, in bulk: requests, journal, draws,
    ballots; release what nobody won; ask for the follow-up. A draw a twin finished
    meanwhile is left as it is. Returns the draws, finished."""
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
    finished: list[Draw] = []
    changed: list[BallotRequest] = []
    events: list[AuditEntry] = []
    done: list[Draw] = []
    for draw in locked:
        finished.append(draw)
        if draw.finished_at is not None:  # a twin finished first
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
    if done:
        _requests_decided(changed, now)
        audit_record_many(events)
        Draw.objects.bulk_update(done, ["refusals", "allocation", "finished_at"])
        Ballot.objects.filter(pk__in=[d.ballot_id for d in done]).update(status=Ballot.Status.DRAWN)
        # Every slot of the draws: a booked one has no reservation left to end, and none
        # stays kept should a resumed draw's replayed booking sit elsewhere than allocated.
        slots_release_from_draw(slot_ids=[s["id"] for d in done for s in d.inputs["slots"]])
        # Committed with the results or not at all: no recorded draw goes unfollowed.
        follow_up_later([d.pk for d in done])
    return finished
