"""Reads of «Запись при открытии дня» (docs/fair-release.md)."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import router
from django.db.models import Count, F, QuerySet
from django.http import Http404
from django.utils import timezone

from portal.core.compiled import CompiledQuery
from portal.core.reads_together import Part, apart, together
from portal.core.rows import built
from portal.directory import selectors as directory
from portal.directory.models import Doctor
from portal.identity.models import User
from portal.patients.models import Patient
from portal.patients.selectors import (
    Sight,
    Visibility,
    VisibleRows,
    patient_ids_actable_by,
    visibility_for,
)
from portal.release import allocation
from portal.release.models import Ballot, BallotRequest, Draw, Times
from portal.release.staff_reads import Replay as Replay
from portal.release.staff_reads import ballot_get_for_staff as ballot_get_for_staff
from portal.release.staff_reads import ballots_for_staff as ballots_for_staff
from portal.release.staff_reads import draw_replay as draw_replay
from portal.release.staff_reads import staff_may_replay as staff_may_replay
from portal.scheduling.models import Slot
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


def _drawn_slots(
    clinic_id: int,
    specialty_id: int,
    start: datetime.datetime,
    end: datetime.datetime,
    opens_by: datetime.datetime,
) -> QuerySet[Slot]:
    """The times the ballot's draw gives out (those that open by its moment, as
    `draws.ballot_slot_ids` takes them)."""
    return _slots_between(clinic_id, specialty_id, start, end).filter(opens_at__lte=opens_by)


def _starts(
    clinic_id: int,
    specialty_id: int,
    start: datetime.datetime,
    end: datetime.datetime,
    opens_by: datetime.datetime,
) -> "QuerySet[Slot, tuple[Any, ...]]":
    """The start of every time the ballot's draw gives out, in order."""
    return (
        _drawn_slots(clinic_id, specialty_id, start, end, opens_by)
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


def _competing_requests(ballot_id: int) -> QuerySet[BallotRequest]:
    return BallotRequest.objects.filter(ballot_id=ballot_id, status__in=_COMPETING)


def _competing(ballot_id: int) -> "QuerySet[BallotRequest, tuple[Any, ...]]":
    return (
        _competing_requests(ballot_id).values("ballot_id").annotate(n=Count("pk")).values_list("n")
    )


# The form, the first POST (twice: the view and the service's check under the lock, the
# count only when a page shows it) and every poll of the result page read the day:
# compiled once per process (`core.compiled`), not built by the ORM each time
# (docs/performance.md, «The fair rush, request by request»).
_STARTS = CompiledQuery(_starts)
_COMPETING_COUNT = CompiledQuery(_competing)


@dataclass(frozen=True)
class BallotDay:
    """What the request form and the ballot's page say of the day: its real parts of the
    day, its hours, and how many requests compete for how many times."""

    ballot_id: int
    parts: list[str]  # Times values the day really has; the form offers only these
    first: datetime.datetime | None
    last: datetime.datetime | None
    times: int
    counted: int | None = None  # the competing requests, when read with the rest

    @cached_property
    def requests(self) -> int:
        """Read when a page shows it, unless counted with the rest (the result page): a
        request's POST (the view's form, the service's check under the lock) needs only
        the day's parts."""
        if self.counted is not None:
            return self.counted
        counted = _COMPETING_COUNT.rows(self.ballot_id)
        return int(counted[0][0]) if counted else 0


def ballot_day(ballot: "Ballot | ShownBallot") -> BallotDay:
    start, end = _day_bounds(ballot.day)
    starts = [
        row[0]
        for row in _STARTS.rows(ballot.clinic_id, ballot.specialty_id, start, end, ballot.opens_at)
    ]
    return _day_of(ballot.pk, starts)


def _day_of(
    ballot_id: int, starts: list[datetime.datetime], counted: int | None = None
) -> BallotDay:
    """The day from the starts of its times, in order (`_starts`), and the count of
    competing requests if read already."""
    tz = ZoneInfo(settings.TIME_ZONE)
    local = [s.astimezone(tz).strftime("%H:%M") for s in starts]
    return BallotDay(
        ballot_id=ballot_id,
        parts=allocation.day_parts(local),
        first=starts[0] if starts else None,
        last=starts[-1] if starts else None,
        times=len(starts),
        counted=counted,
    )


def ballots_collecting(now: datetime.datetime | None = None) -> QuerySet[Ballot]:
    now = now or timezone.now()
    return Ballot.objects.filter(status=Ballot.Status.COLLECTING, opens_at__gt=now).select_related(
        "clinic", "specialty", "clinic__district"
    )


_BALLOT = ["id", "clinic_id", "specialty_id", "day", "opens_at", "status", "created_at"]


def _collecting(ballot_id: int, now: datetime.datetime) -> "QuerySet[Ballot, tuple[Any, ...]]":
    return ballots_collecting(now).filter(pk=ballot_id).values_list(*_BALLOT)


# The form and every ballot POST (three a second per aggressive patient at the rush) read
# the ballot: compiled once per process, its clinic and specialty from the directory's
# cache (docs/performance.md, «The fair rush, request by request»).
_COLLECTING = CompiledQuery(_collecting)


def ballot_get_collecting(ballot_id: int) -> Ballot:
    """A ballot still collecting requests, with its clinic (and district) and specialty,
    or 404."""
    rows = _COLLECTING.rows(ballot_id, timezone.now())
    if not rows:
        raise Http404
    return _ballot_built(rows[0])


def _ballot_by_id(ballot_id: int) -> "QuerySet[Ballot, tuple[Any, ...]]":
    return Ballot.objects.filter(pk=ballot_id).values_list(*_BALLOT)


# A request's transaction reads its ballot again, whatever its state: compiled once too.
_BALLOT_BY_ID = CompiledQuery(_ballot_by_id)


def ballot_get_now(ballot_id: int) -> Ballot | None:
    """The ballot as the database has it at this moment (its status, for a request's
    transaction), with its clinic and specialty as `ballot_get_collecting` gives them;
    None when there is no such ballot."""
    rows = _BALLOT_BY_ID.rows(ballot_id)
    return _ballot_built(rows[0]) if rows else None


def _ballot_built(row: tuple[Any, ...]) -> Ballot:
    ballot = Ballot(**dict(zip(_BALLOT, row, strict=True)))
    ballot._state.adding = False
    for name, related in (
        ("clinic", directory.clinic_cached(ballot.clinic_id)),
        ("specialty", directory.specialty_cached(ballot.specialty_id)),
    ):
        if related is not None:  # else the ORM reads it when asked
            Ballot._meta.get_field(name).set_cached_value(ballot, related)  # type: ignore[union-attr]
    return ballot


def ballot_doctors_shown(ballot: Ballot) -> list[Doctor]:
    """The doctors the form offers (`ballot_doctors`, from the directory's cache; the
    service checks the choice against the database under its lock)."""
    return directory.doctors_list_of(ballot.clinic, ballot.specialty)


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
    row = requests_of_patient(patient, user).filter(pk=request_id).first()
    if row is None:
        raise Http404
    return row


_SHOWN = ["id", "ballot_id", "patient_id", "specialty_id", "status", "times", "position",
          "created_at", "refusal", "ballot__clinic_id", "ballot__day", "ballot__opens_at",
          "ballot__clinic__short_name", "ballot__specialty__name", "appointment_id",
          "appointment__starts_at", "appointment__slot__doctor__last_name",
          "appointment__slot__doctor__first_name", "appointment__slot__doctor__middle_name",
          "ballot__draw__id", "ballot__draw__seed", "ballot__draw__finished_at",
          "ballot__draw__followed_up_at", "fitting"]  # fmt: skip


def _shown(
    seen: Visibility, patient_id: int, request_id: int
) -> "QuerySet[BallotRequest, tuple[Any, ...]]":
    return requests_seen(seen).filter(patient_id=patient_id, pk=request_id).values_list(*_SHOWN)


def _chosen_doctors(request_id: int) -> QuerySet[Doctor]:
    chosen = BallotRequest.doctors.through.objects.filter(ballotrequest_id=request_id)
    return Doctor.objects.filter(pk__in=chosen.values("doctor_id"))


# The result page is polled every half second by everyone waiting at the opening
# (docs/performance.md, «The fair rush, request by request»): its reads are compiled once
# per process (`core.compiled`) and give plain values, not a graph of seven models.
_SHOWN_ROW = VisibleRows(_shown)


@dataclass(frozen=True)
class ShownBallot:
    """The ballot as the result page names it (and `ballot_day` reads it)."""

    pk: int
    clinic_id: int
    specialty_id: int
    day: datetime.date
    opens_at: datetime.datetime
    clinic_short_name: str
    specialty_name: str


@dataclass(frozen=True)
class ShownRequest:
    """One request as its result page shows it."""

    pk: int
    patient_id: int
    specialty_id: int
    status: str
    times: str
    position: int | None
    created_at: datetime.datetime
    refusal: str
    ballot: ShownBallot
    doctors: list[str]  # the chosen doctors' full names; empty: any doctor
    appointment_id: int | None
    appointment_starts_at: datetime.datetime | None
    appointment_doctor: str
    draw: Draw | None  # the finished draw, its seed only
    fitting: int | None  # set by the draw; None for requests decided before it was stored

    def get_status_display(self) -> str:
        return str(BallotRequest.Status(self.status).label)

    def get_times_display(self) -> str:
        return str(Times(self.times).label)


def _full_name(last: str | None, first: str | None, middle: str | None) -> str:
    return Doctor(last_name=last or "", first_name=first or "", middle_name=middle or "").full_name


@dataclass(frozen=True)
class ResultPage:
    """What a request's result page shows: the request and the ballot's day."""

    request: ShownRequest
    day: BallotDay


_NAMES = ("last_name", "first_name", "middle_name")


def _after_the_row(
    request_id: int,
    ballot_id: int,
    clinic_id: int,
    specialty_id: int,
    start: datetime.datetime,
    end: datetime.datetime,
    opens_by: datetime.datetime,
) -> "QuerySet[Any, tuple[Any, ...]]":
    """The result page's reads after the request's row, in one statement: the chosen
    doctors' names (`_chosen_doctors`), the start of each time the draw gives out
    (`_drawn_slots`) and the count of competing requests (`_competing_requests`; no row
    when there are none)."""
    doctors = Part(
        _chosen_doctors(request_id),
        {name: F(name) for name in (*_NAMES, "id")},
        order=(*_NAMES[:2], "id"),
    )
    starts = Part(
        _drawn_slots(clinic_id, specialty_id, start, end, opens_by),
        {"starts_at": F("starts_at")},
        order=("starts_at",),
    )
    counted = Part(_competing_requests(ballot_id).values("ballot_id"), {"n": Count("pk")})
    return together(doctors, starts, counted)


_AFTER_THE_ROW = CompiledQuery(_after_the_row)


def request_page(user: User | AnonymousUser, patient: Patient, request_id: int) -> ResultPage:
    """The acting patient's request by id as its result page shows it, with its ballot's
    day, in two reads (the page is polled every half second at the opening: docs/
    performance.md, «The result page in two reads»); or 404 (someone else's id reveals
    nothing): the same rule as `request_get_for_user`."""
    rows = _SHOWN_ROW.rows(user, patient.pk, request_id)
    if not rows:
        raise Http404
    (pk, ballot_id, patient_id, specialty_id, status, times, position, created_at, refusal,
     clinic_id, day, opens_at, clinic_name, specialty_name, appointment_id, starts_at,
     last, first, middle, draw_id, seed, finished_at, followed_up_at,
     fitting) = rows[0]  # fmt: skip
    after = _AFTER_THE_ROW.rows(pk, ballot_id, clinic_id, specialty_id, *_day_bounds(day), opens_at)
    chosen, starts, counted = apart(after, len(_NAMES) + 1, 1, 1)
    requests = int(counted[0][0]) if counted else 0
    shown_day = _day_of(ballot_id, [start for (start,) in starts], requests)
    draw = None
    if draw_id is not None and finished_at is not None:
        draw = Draw(
            pk=draw_id,
            ballot_id=ballot_id,
            seed=seed,
            finished_at=finished_at,
            followed_up_at=followed_up_at,
        )
    shown = ShownRequest(
        pk=pk,
        patient_id=patient_id,
        specialty_id=specialty_id,
        status=status,
        times=times,
        position=position,
        created_at=created_at,
        refusal=refusal,
        ballot=ShownBallot(
            ballot_id, clinic_id, specialty_id, day, opens_at, clinic_name, specialty_name
        ),
        doctors=[_full_name(*names) for *names, _pk in chosen],
        appointment_id=appointment_id,
        appointment_starts_at=starts_at,
        appointment_doctor=_full_name(last, first, middle) if appointment_id else "",
        draw=draw,
        fitting=fitting,
    )
    return ResultPage(shown, shown_day)


def request_patient_for_user(user: User | AnonymousUser, request_id: int) -> Patient | None:
    """Whose request this is, if the user may act for that patient and see the request:
    a parent in her child's cabinet opening her own request is told so, not given a 404."""
    for patient in Patient.objects.filter(pk__in=patient_ids_actable_by(user)):
        if requests_of_patient(patient, user).filter(pk=request_id).exists():
            return patient
    return None


def _pending_in(
    seen: Visibility, patient_id: int, ballot_id: int
) -> "QuerySet[BallotRequest, tuple[Any, ...]]":
    return (
        requests_seen(seen)
        .filter(patient_id=patient_id, ballot_id=ballot_id, status=BallotRequest.Status.PENDING)
        .values_list("pk")
    )


_PENDING_IN = VisibleRows(_pending_in)


_REQUEST_COLUMNS = [f.attname for f in BallotRequest._meta.concrete_fields]


def _pending_of(patient_id: int, specialty_id: int) -> "QuerySet[BallotRequest, tuple[Any, ...]]":
    return (
        BallotRequest.objects.filter(
            patient_id=patient_id, specialty_id=specialty_id, status=BallotRequest.Status.PENDING
        )
        .order_by("pk")
        .values_list(*_REQUEST_COLUMNS)
    )


# Every first request of a patient reads it inside its transaction: compiled once.
_PENDING_OF = CompiledQuery(_pending_of)


def request_pending_of(patient_id: int, specialty_id: int) -> BallotRequest | None:
    """The patient's waiting request for this specialty, in any ballot, whoever made it
    (at most one: `BallotRequest`'s constraint), for the service that decides on a new
    one; what a viewer is shown of it is `request_pending_in`'s."""
    rows = _PENDING_OF.rows(patient_id, specialty_id)
    if not rows:
        return None
    return built(BallotRequest, router.db_for_read(BallotRequest), _REQUEST_COLUMNS, rows[0])


def request_pending_in(
    ballot: Ballot, patient: Patient, viewer: User | AnonymousUser
) -> int | None:
    """The id of the patient's waiting request in this ballot, if this viewer may see it
    (another guardian's request is not shown, nor its id given away to an unverified one)."""
    rows = _PENDING_IN.rows(viewer, patient.pk, ballot.pk)
    return rows[0][0] if rows else None


def refusal_told(code: str, viewer: User | AnonymousUser, patient_id: int) -> str:
    """What a refusal tells this viewer: another request of the patient is named only to
    someone who sees the patient in full (docs/security.md, «one rule of visibility»)."""
    hidden = visibility_for(viewer).of_patient(patient_id) is Sight.OWN_DOINGS
    if code == "release_one_per_specialty" and hidden:
        return "release_conflict_unseen"
    return code


@dataclass(frozen=True)
class JoinedEntry:
    """The waitlist entry a lost request was put in, as its result page links it."""

    pk: int
    date_from: datetime.date


@dataclass(frozen=True)
class LostWhy:
    """Why a request got no time, from the draw's own inputs (docs/fair-release.md)."""

    fitting: int  # 0: none of the chosen times existed; else they went to earlier places
    entry: JoinedEntry | None  # the waitlist entry the draw put it in, if any
    joining: bool = False  # the draw's follow-up has not run yet: the entry is on its way


def _joined_entry(
    patient_id: int, specialty_id: int, day: datetime.date
) -> "QuerySet[WaitlistEntry, tuple[Any, ...]]":
    return (
        WaitlistEntry.objects.filter(
            patient_id=patient_id,
            specialty_id=specialty_id,
            date_from=day,
            date_to=day,
            status__in=WaitlistEntry.LIVE,
        )
        .order_by("pk")
        .values_list("pk", "date_from")[:1]
    )


# Read by every loser's poll of the result page after the draw: compiled once.
_JOINED_ENTRY = CompiledQuery(_joined_entry)


def waitlisted_for_the_day(asked: Sequence[tuple[int, int, int, datetime.date]]) -> set[int]:
    """Of ``(ref, patient, specialty, day)``, the refs whose patient has a live waitlist
    entry in the specialty for exactly that day: the entry a lost request's page links
    (`lost_why`), read for a whole draw's losers in one statement."""
    if not asked:
        return set()
    live = set(
        WaitlistEntry.objects.filter(
            patient_id__in={a[1] for a in asked},
            specialty_id__in={a[2] for a in asked},
            date_from__in={a[3] for a in asked},
            date_to=F("date_from"),
            status__in=WaitlistEntry.LIVE,
        ).values_list("patient_id", "specialty_id", "date_from")
    )
    return {ref for ref, patient, specialty, day in asked if (patient, specialty, day) in live}


def _fitting_from_inputs(request: ShownRequest, draw: Draw) -> int:
    """For a request decided before the draw stored `fitting`: from the draw's record."""
    inputs = Draw.objects.filter(pk=draw.pk).values_list("inputs", flat=True).get()
    requests, slots = allocation.inputs_parse(inputs)
    mine = next((r for r in requests if r.id == request.pk), None)
    return allocation.fitting(mine, slots) if mine is not None else 0


def lost_why(request: ShownRequest, draw: Draw) -> LostWhy:
    fitting = request.fitting
    if fitting is None:
        fitting = _fitting_from_inputs(request, draw)
    if not fitting:
        return LostWhy(0, None)
    rows = _JOINED_ENTRY.rows(request.patient_id, request.specialty_id, request.ballot.day)
    if rows:
        return LostWhy(fitting, JoinedEntry(*rows[0]))
    return LostWhy(fitting, None, joining=draw.followed_up_at is None)


# --- the operator's side ----------------------------------------------------------------
