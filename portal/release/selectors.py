"""Reads of «Запись при открытии дня» (docs/fair-release.md)."""

import datetime
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import timezone

from portal.audit.models import AuditAction, AuditEvent
from portal.core.compiled import CompiledQuery
from portal.directory.models import Doctor
from portal.identity.models import User
from portal.patients.models import Patient
from portal.patients.selectors import (
    Sight,
    Visibility,
    patient_ids_actable_by,
    visibility_for,
)
from portal.release import allocation
from portal.release.models import Ballot, BallotRequest, Draw
from portal.scheduling.models import Slot
from portal.staff.permissions import clinic_scope_for, staff_member_of
from portal.waitlist.models import WaitlistEntry


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, start + datetime.timedelta(days=1)


def ballot_doctors(ballot: Ballot) -> QuerySet[Doctor]:
    return Doctor.objects.filter(
        clinic_id=ballot.clinic_id, specialty_id=ballot.specialty_id, is_active=True
    ).order_by("last_name", "first_name", "pk")


def ballot_slots(clinic_id: int, specialty_id: int, day: datetime.date) -> QuerySet[Slot]:
    """Every slot of the place's active doctors on that local day."""
    return _slots_between(clinic_id, specialty_id, *_day_bounds(day))


def _slots_between(
    clinic_id: int, specialty_id: int, start: datetime.datetime, end: datetime.datetime
) -> QuerySet[Slot]:
    return Slot.objects.filter(
        doctor__clinic_id=clinic_id,
        doctor__specialty_id=specialty_id,
        doctor__is_active=True,
        starts_at__gte=start,
        starts_at__lt=end,
    )


def _starts(
    clinic_id: int,
    specialty_id: int,
    start: datetime.datetime,
    end: datetime.datetime,
    opens_by: datetime.datetime,
) -> "QuerySet[Slot, tuple[Any, ...]]":
    """The start of every time the ballot's draw gives out (those that open by its moment,
    as `draws.ballot_slot_ids` takes them)."""
    return (
        _slots_between(clinic_id, specialty_id, start, end)
        .filter(opens_at__lte=opens_by)
        .order_by("starts_at")
        .values_list("starts_at")
    )


# The requests that compete in the draw (withdrawn ones do not).
_COMPETING = (
    BallotRequest.Status.PENDING,
    BallotRequest.Status.WON,
    BallotRequest.Status.LOST,
    BallotRequest.Status.REFUSED,
)


def _competing(ballot_id: int) -> "QuerySet[BallotRequest, tuple[Any, ...]]":
    return (
        BallotRequest.objects.filter(ballot_id=ballot_id, status__in=_COMPETING)
        .values("ballot_id")
        .annotate(n=Count("pk"))
        .values_list("n")
    )


# The form, the first POST (twice: the view and the service's check under the lock) and
# every poll of the result page read the day: compiled once per process (`core.compiled`),
# not built by the ORM each time (docs/performance.md, «The fair rush, request by request»).
_STARTS = CompiledQuery(_starts)
_COMPETING_COUNT = CompiledQuery(_competing)


@dataclass(frozen=True)
class BallotDay:
    """What the request form and the ballot's page say of the day: its real parts of the
    day, its hours, and how many requests compete for how many times."""

    parts: list[str]  # Times values the day really has; the form offers only these
    first: datetime.datetime | None
    last: datetime.datetime | None
    times: int
    requests: int


def ballot_day(ballot: Ballot) -> BallotDay:
    start, end = _day_bounds(ballot.day)
    starts = [
        row[0]
        for row in _STARTS.rows(ballot.clinic_id, ballot.specialty_id, start, end, ballot.opens_at)
    ]
    counted = _COMPETING_COUNT.rows(ballot.pk)
    tz = ZoneInfo(settings.TIME_ZONE)
    local = [s.astimezone(tz).strftime("%H:%M") for s in starts]
    return BallotDay(
        parts=allocation.day_parts(local),
        first=starts[0] if starts else None,
        last=starts[-1] if starts else None,
        times=len(starts),
        requests=counted[0][0] if counted else 0,
    )


def ballots_collecting(now: datetime.datetime | None = None) -> QuerySet[Ballot]:
    now = now or timezone.now()
    return Ballot.objects.filter(status=Ballot.Status.COLLECTING, opens_at__gt=now).select_related(
        "clinic", "specialty", "clinic__district"
    )


def ballot_get_collecting(ballot_id: int) -> Ballot:
    ballot = ballots_collecting().filter(pk=ballot_id).first()
    if ballot is None:
        raise Http404
    return ballot


def requests_seen(seen: Visibility) -> QuerySet[BallotRequest]:
    """The requests a user sees (``seen``: their `Visibility`): an unverified guardian
    only the requests they made (docs/domain.md, «Relatives»). The list below and the
    cabinet's look whether there are any pending."""
    return BallotRequest.objects.filter(seen.records(author="made_by_id"))


def requests_of_patient(patient: Patient, user: User | AnonymousUser) -> QuerySet[BallotRequest]:
    """The acting patient's requests, as far as this user may see them."""
    rows = requests_seen(visibility_for(user)).filter(patient=patient)
    return rows.select_related("ballot__clinic", "ballot__specialty", "appointment")


def request_get_for_user(
    user: User | AnonymousUser, patient: Patient, request_id: int
) -> BallotRequest:
    """The acting patient's request by id, or 404 (someone else's id reveals nothing)."""
    if patient.pk not in patient_ids_actable_by(user):
        raise Http404
    row = (
        requests_of_patient(patient, user)
        .select_related("ballot__draw", "appointment__slot__doctor")
        # The draw's record of every request and slot is read only to explain a loss
        # (`lost_why`); the result page, polled every few seconds, does not parse it.
        .defer("ballot__draw__inputs", "ballot__draw__allocation", "ballot__draw__refusals")
        .prefetch_related("doctors")
        .filter(pk=request_id)
        .first()
    )
    if row is None:
        raise Http404
    return row


def request_patient_for_user(user: User | AnonymousUser, request_id: int) -> Patient | None:
    """Whose request this is, if the user may act for that patient and see the request:
    a parent in her child's cabinet opening her own request is told so, not given a 404."""
    for patient in Patient.objects.filter(pk__in=patient_ids_actable_by(user)):
        if requests_of_patient(patient, user).filter(pk=request_id).exists():
            return patient
    return None


def request_pending_in(
    ballot: Ballot, patient: Patient, viewer: User | AnonymousUser
) -> BallotRequest | None:
    """The patient's waiting request in this ballot, if this viewer may see it (another
    guardian's request is not shown, nor its id given away to an unverified one)."""
    return (
        requests_of_patient(patient, viewer)
        .filter(ballot=ballot, status=BallotRequest.Status.PENDING)
        .first()
    )


def refusal_told(code: str, viewer: User | AnonymousUser, patient_id: int) -> str:
    """What a refusal tells this viewer: another request of the patient is named only to
    someone who sees the patient in full (docs/security.md, «one rule of visibility»)."""
    hidden = visibility_for(viewer).of_patient(patient_id) is Sight.OWN_DOINGS
    if code == "release_one_per_specialty" and hidden:
        return "release_conflict_unseen"
    return code


def draw_of(request: BallotRequest) -> Draw | None:
    """The request's finished draw; read with the request by `request_get_for_user`."""
    if Ballot.draw.is_cached(request.ballot):
        try:
            draw: Draw | None = request.ballot.draw
        except Draw.DoesNotExist:
            draw = None
        return draw if draw is not None and draw.finished_at is not None else None
    return Draw.objects.filter(ballot_id=request.ballot_id, finished_at__isnull=False).first()


@dataclass(frozen=True)
class LostWhy:
    """Why a request got no time, from the draw's own inputs (docs/fair-release.md)."""

    fitting: int  # 0: none of the chosen times existed; else they went to earlier places
    entry: WaitlistEntry | None  # the waitlist entry the draw put it in, if any


def lost_why(request: BallotRequest, draw: Draw) -> LostWhy:
    requests, slots = allocation.inputs_parse(draw.inputs)
    mine = next((r for r in requests if r.id == request.pk), None)
    fitting = allocation.fitting(mine, slots) if mine is not None else 0
    day = request.ballot.day
    entry = (
        WaitlistEntry.objects.filter(
            patient_id=request.patient_id,
            specialty_id=request.specialty_id,
            date_from=day,
            date_to=day,
            status__in=WaitlistEntry.LIVE,
        ).first()
        if fitting
        else None
    )
    return LostWhy(fitting, entry)


# --- the operator's side ----------------------------------------------------------------


def staff_may_replay(user: User | AnonymousUser) -> bool:
    """Replaying a draw is the regional operator's (docs/domain.md, «Roles»)."""
    member = staff_member_of(user)
    return member is not None and member.is_operator


def ballots_for_staff(user: User | AnonymousUser) -> QuerySet[Ballot]:
    return (
        Ballot.objects.filter(clinic__in=clinic_scope_for(user))
        .select_related("clinic", "specialty")
        .order_by("-opens_at", "-pk")
    )


def ballot_get_for_staff(user: User | AnonymousUser, ballot_id: int) -> Ballot:
    ballot = ballots_for_staff(user).filter(pk=ballot_id).first()
    if ballot is None:
        raise Http404
    return ballot


@dataclass(frozen=True)
class Replay:
    matches: bool
    inputs_sha256: str
    recomputed: dict[str, dict[str, Any]]
    differences: list[str]  # request ids whose outcome differs
    record_intact: bool  # the seed and inputs are those the journal noted before booking


def draw_replay(draw: Draw) -> Replay:
    """Recompute the allocation from the stored seed, inputs and refusals; compare it with
    the stored allocation, and the seed and inputs with the digests the append-only journal
    took when the draw began (a changed seed or input would otherwise replay "fine")."""
    recomputed = allocation.replay(draw.seed, draw.inputs, draw.refusals)
    stored = draw.allocation
    differences = sorted(
        (k for k in set(recomputed) | set(stored) if recomputed.get(k) != stored.get(k)),
        key=int,
    )
    digest = allocation.inputs_digest(draw.inputs)
    noted = (
        AuditEvent.objects.filter(action=AuditAction.RELEASE_DRAWN, details__draw=draw.pk)
        .values_list("details", flat=True)
        .first()
    )
    intact = (
        noted is not None
        and noted.get("seed_sha256") == allocation.seed_digest(draw.seed)
        and noted.get("inputs_sha256") == digest
    )
    return Replay(
        matches=intact and not differences and draw.finished_at is not None,
        inputs_sha256=digest,
        recomputed=recomputed,
        differences=differences,
        record_intact=intact,
    )
