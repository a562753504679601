"""Reads of the booking area. Every list is a fixed number of queries, whatever the data.

Names follow the directory's grammar, ``<noun>_<verb>[_<qualifier>]`` (``*_get``: one row
or Http404; ``*_list``: many). District, clinic, specialty and doctor lookups live in
`portal.directory.selectors`, not here.
"""

import datetime
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import router
from django.db.models import (
    Count,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone

from portal.core.compiled import CompiledQuery, padded
from portal.core.reads_together import Part, apart, together
from portal.core.rows import built
from portal.directory import selectors as directory
from portal.directory.models import Clinic, District, Doctor, Specialty
from portal.identity.models import User
from portal.patients.models import Patient
from portal.patients.selectors import (
    Sight,
    Visibility,
    VisibleRows,
    appointments_visible_to,
    visibility_for,
)
from portal.scheduling import rules
from portal.scheduling.active_reads import ACTIVE_COLUMNS, active_built, active_part
from portal.scheduling.active_reads import (
    appointments_list_active as appointments_list_active,
)
from portal.scheduling.active_reads import (
    appointments_list_active_for as appointments_list_active_for,
)
from portal.scheduling.active_reads import (
    appointments_list_active_of as appointments_list_active_of,
)
from portal.scheduling.appointment_lists import (
    appointments_list_for_user as appointments_list_for_user,
)
from portal.scheduling.appointment_lists import (
    appointments_list_upcoming_for_user as appointments_list_upcoming_for_user,
)
from portal.scheduling.appointment_lists import appointments_of_rows as appointments_of_rows
from portal.scheduling.appointment_lists import own_on_slot
from portal.scheduling.appointment_lists import (
    read_with_appointment_list as read_with_appointment_list,
)
from portal.scheduling.appointment_lists import upcoming_read as upcoming_read
from portal.scheduling.errors import CONFLICT_CODES
from portal.scheduling.models import Absence, Appointment, ScheduleRule, Slot
from portal.scheduling.rankings import ranking_kept
from portal.scheduling.schedule_changes import ExistingSlot

NEAREST_LIMIT = 20
Row = tuple[Any, ...]


def bookable_q(now: datetime.datetime, prefix: str = "") -> Q:
    """Free, already open for online booking, still in the future and not held for
    someone (`rules.hold_refusal`): what every search shows."""
    return Q(
        **{
            f"{prefix}status": Slot.Status.FREE,
            f"{prefix}opens_at__lte": now,
            f"{prefix}starts_at__gt": now,
        }
    ) & (Q(**{f"{prefix}held_until__isnull": True}) | Q(**{f"{prefix}held_until__lte": now}))


# --- the wizard ----------------------------------------------------------------------
# The directory's part of each page comes from `directory.selectors` (kept per process);
# what must be fresh — free times, the patient's appointments — is read here on every
# request, each by one narrow statement compiled once (`core.compiled`).


@dataclass(frozen=True)
class DoctorNearest:
    """A doctor of step 4 with their first bookable start (None: no free time)."""

    doctor: Doctor
    nearest: datetime.datetime | None


def _first_free(doctor_ids: tuple[int, ...], now: datetime.datetime) -> "QuerySet[Slot, Row]":
    return (
        Slot.objects.filter(bookable_q(now), doctor_id__in=doctor_ids)
        .order_by()
        .values("doctor_id")
        .annotate(first=Min("starts_at"))
        .values_list("doctor_id", "first")
    )


_FIRST_FREE = CompiledQuery(_first_free)


def doctors_list_with_nearest(clinic: Clinic, specialty: Specialty) -> list[DoctorNearest]:
    """The clinic's active doctors of a specialty by name, each with their first bookable
    start (one statement for all of them)."""
    doctors = directory.doctors_list_of(clinic, specialty)
    if not doctors:
        return []
    first: dict[int, datetime.datetime] = {
        doctor_id: start
        for doctor_id, start in _FIRST_FREE.rows(padded([d.pk for d in doctors]), timezone.now())
    }
    return [DoctorNearest(d, first.get(d.pk)) for d in doctors]


def _free_days(
    doctor_id: int, now: datetime.datetime, tz: datetime.tzinfo
) -> "QuerySet[Slot, Row]":
    return (
        Slot.objects.filter(bookable_q(now), doctor_id=doctor_id)
        .annotate(day=TruncDate("starts_at", tzinfo=tz))
        .order_by()
        .values("day")
        .annotate(free=Count("pk"))
        .order_by("day")
        .values_list("day", "free")
    )


# The local date is computed by the database in the time zone named in the SQL: one
# compiled query per zone.
_FREE_DAYS: dict[str, CompiledQuery] = {}


def days_list_free(doctor: Doctor) -> list[tuple[datetime.date, int]]:
    """Local dates with bookable slots, and how many, in order (counted by the database)."""
    tz = timezone.get_current_timezone()
    query = _FREE_DAYS.get(str(tz))
    if query is None:
        query = _FREE_DAYS[str(tz)] = CompiledQuery(
            lambda doctor_id, now: _free_days(doctor_id, now, tz)
        )
    return [(day, free) for day, free in query.rows(doctor.pk, timezone.now())]


_SLOT_TIMES = ["id", "doctor_id", "starts_at", "ends_at"]


def _free_between(
    doctor_id: int, now: datetime.datetime, since: datetime.datetime, until: datetime.datetime
) -> "QuerySet[Slot, Row]":
    return (
        Slot.objects.filter(
            bookable_q(now), doctor_id=doctor_id, starts_at__gte=since, starts_at__lt=until
        )
        .order_by("starts_at")
        .values_list(*_SLOT_TIMES)
    )


_FREE_BETWEEN = CompiledQuery(_free_between)


def _slots_of(rows: list[Row], doctors: dict[int, Doctor] | None = None) -> list[Slot]:
    """Slots of a narrow read (id, doctor, start, end; the rest deferred), with the doctor
    attached where it is known."""
    db = router.db_for_read(Slot)
    slots = [built(Slot, db, _SLOT_TIMES, row) for row in rows]
    if doctors:
        doctor_field = Slot._meta.get_field("doctor")
        for slot in slots:
            if slot.doctor_id in doctors:
                doctor_field.set_cached_value(slot, doctors[slot.doctor_id])
    return slots


def slots_list_free_on(doctor: Doctor, day: datetime.date) -> list[Slot]:
    """The doctor's bookable slots on a local date, in order (only their times are read)."""
    tz = timezone.get_current_timezone()
    since = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    rows = _FREE_BETWEEN.rows(doctor.pk, timezone.now(), since, since + datetime.timedelta(days=1))
    return _slots_of(rows, {doctor.pk: doctor})


_SLOT_COLUMNS = [f.attname for f in Slot._meta.concrete_fields]


def _slot_by_id(slot_id: int) -> "QuerySet[Slot, Row]":
    return Slot.objects.filter(pk=slot_id).values_list(*_SLOT_COLUMNS)


_SLOT_BY_ID = CompiledQuery(_slot_by_id)


def slot_get_for_booking(slot_id: int) -> Slot:
    """A slot with its doctor, the doctor's clinic, district and specialty (from the
    directory's cache), or 404."""
    rows = _SLOT_BY_ID.rows(slot_id)
    if not rows:
        raise Http404
    return slot_with_doctor(built(Slot, router.db_for_read(Slot), _SLOT_COLUMNS, rows[0]))


def _slot_own_and_active(
    seen: Visibility, slot_id: int, patient_id: int, now: datetime.datetime
) -> "QuerySet[Slot, Row]":
    """The slot with the id of the patient's own booking on it, and her active
    appointments (`active_part`), in one statement."""
    mine = Subquery(own_on_slot(seen, OuterRef("pk"), patient_id))
    slot = Part(
        Slot.objects.filter(pk=slot_id),
        {**{name: F(name) for name in _SLOT_COLUMNS}, "mine": mine},
    )
    return together(slot, active_part(patient_id, now))


_SLOT_OWN_AND_ACTIVE = VisibleRows(_slot_own_and_active)


@dataclass(frozen=True)
class ConfirmRead:
    """What the confirm page's GET reads: the slot, the patient's own booked appointment
    on it (its id, if this user may see it) and her active appointments."""

    slot: Slot
    mine: int | None
    active: list[Appointment]


def slot_get_for_confirm(
    user: User, patient: Patient, slot_id: int, now: datetime.datetime
) -> ConfirmRead:
    """`slot_get_for_booking`, the patient's own booking on the slot (the confirm page
    reached again after booking shows her ticket) and `appointments_list_active`, in one
    read (docs/performance.md, «The confirm page in one read»)."""
    rows = _SLOT_OWN_AND_ACTIVE.rows(user, slot_id, patient.pk, now)
    slots, active = apart(rows, len(_SLOT_COLUMNS) + 1, len(ACTIVE_COLUMNS))
    if not slots:
        # No such slot, or a user who acts for nobody: the plain reads decide.
        return ConfirmRead(
            slot_get_for_booking(slot_id), None, appointments_list_active(patient, now)
        )
    slot = built(Slot, router.db_for_read(Slot), _SLOT_COLUMNS, slots[0][:-1])
    return ConfirmRead(slot_with_doctor(slot), slots[0][-1], active_built(active))


def slot_with_doctor(slot: Slot) -> Slot:
    """``slot`` (read by the caller) with its doctor, the doctor's clinic, district and
    specialty, from the directory's cache."""
    doctor = directory.doctor_cached(slot.doctor_id)
    if doctor is not None:
        Slot._meta.get_field("doctor").set_cached_value(slot, doctor)
    return slot


# --- «Ближайшее свободное время» ------------------------------------------------------


def slots_list_nearest(
    specialty: Specialty,
    *,
    district: District | None = None,
    clinic: Clinic | None = None,
    clinic_kinds: Collection[str] | None = None,
) -> list[Slot]:
    """Each doctor's earliest bookable slot, earliest first, at most NEAREST_LIMIT.

    ``clinic_kinds`` keeps only clinics of those kinds (adult / children's / mixed).
    For a patient, call `slots_list_nearest_for_patient`, which applies every rule.

    At 07:00 thousands ask the same question at once. The ranking (the expensive part)
    is kept for NEAREST_CACHE_SECONDS (`rankings.ranking_kept`: per process and shared);
    the slots themselves are always re-read, so a slot taken a moment ago drops out at
    once and booking re-checks under its lock anyway.
    Both statements are compiled once (`core.compiled`); the slots come with what the
    page shows of their doctor and clinic.
    """
    now = timezone.now()
    slot_ids = _nearest_ranking(specialty, district, clinic, clinic_kinds, now)
    if not slot_ids:
        return []
    return _slots_with_doctors(_NEAREST_SLOTS.rows(padded(slot_ids), now))


def _nearest_ranking(
    specialty: Specialty,
    district: District | None,
    clinic: Clinic | None,
    clinic_kinds: Collection[str] | None,
    now: datetime.datetime,
) -> list[int]:
    """The ids of the slots `slots_list_nearest` shows, earliest first: the ranking, kept
    per process and shared (`rankings.ranking_kept`)."""
    kinds = tuple(sorted(clinic_kinds)) if clinic_kinds is not None else None
    key = ":".join(
        [
            "nearest",
            str(specialty.pk),
            str(district.pk) if district else "-",
            str(clinic.pk) if clinic else "-",
            ",".join(kinds) if kinds is not None else "*",
        ]
    )
    return ranking_kept(key, lambda: _nearest_slot_ids(specialty, district, clinic, kinds, now))


def _ranked(doctors: "QuerySet[Doctor]", now: datetime.datetime) -> "QuerySet[Doctor, Row]":
    first = Slot.objects.filter(bookable_q(now), doctor=OuterRef("pk")).order_by("starts_at")
    # Rank doctors by their first free start inside the database and keep 20, so the
    # second query fetches 20 rows by primary key instead of every doctor's first slot.
    return (
        doctors.annotate(
            first_slot=Subquery(first.values("pk")[:1]),
            first_start=Subquery(first.values("starts_at")[:1]),
        )
        .filter(first_start__isnull=False)
        .order_by("first_start")
        .values_list("first_slot")[:NEAREST_LIMIT]
    )


def _doctors_of(specialty_id: int) -> "QuerySet[Doctor]":
    return Doctor.objects.filter(specialty_id=specialty_id, is_active=True)


# One compiled ranking per place (a clinic, a district, the region) and with or without
# the clinic kinds: each argument of a compiled query must reach its SQL.
_RANK_CLINIC = CompiledQuery(
    lambda s, now, c, kinds: _ranked(
        _doctors_of(s).filter(clinic_id=c, clinic__kind__in=kinds), now
    )
)
_RANK_CLINIC_ANY = CompiledQuery(lambda s, now, c: _ranked(_doctors_of(s).filter(clinic_id=c), now))
_RANK_DISTRICT = CompiledQuery(
    lambda s, now, d, kinds: _ranked(
        _doctors_of(s).filter(clinic__district_id=d, clinic__kind__in=kinds), now
    )
)
_RANK_DISTRICT_ANY = CompiledQuery(
    lambda s, now, d: _ranked(_doctors_of(s).filter(clinic__district_id=d), now)
)
_RANK_REGION = CompiledQuery(
    lambda s, now, kinds: _ranked(_doctors_of(s).filter(clinic__kind__in=kinds), now)
)
_RANK_REGION_ANY = CompiledQuery(lambda s, now: _ranked(_doctors_of(s), now))


def _nearest_slot_ids(
    specialty: Specialty,
    district: District | None,
    clinic: Clinic | None,
    kinds: tuple[str, ...] | None,
    now: datetime.datetime,
) -> list[int]:
    place: tuple[Any, ...] = ()
    if clinic is not None:
        queries, place = (_RANK_CLINIC, _RANK_CLINIC_ANY), (clinic.pk,)
    elif district is not None:
        queries, place = (_RANK_DISTRICT, _RANK_DISTRICT_ANY), (district.pk,)
    else:
        queries = (_RANK_REGION, _RANK_REGION_ANY)
    if kinds == ():
        return []  # no kind of clinic receives the patient
    if kinds is not None:
        rows = queries[0].rows(specialty.pk, now, *place, kinds)
    else:
        rows = queries[1].rows(specialty.pk, now, *place)
    return [slot_id for (slot_id,) in rows]


_NEAREST_SLOTS = CompiledQuery(
    lambda ids, now: (
        Slot.objects.filter(bookable_q(now), pk__in=ids)
        .order_by("starts_at", "pk")
        .values_list(*_SLOT_TIMES)
    )
)


def _slots_with_doctors(rows: list[Row]) -> list[Slot]:
    """Slots of a narrow read, each with its doctor as the directory keeps it per process
    (`directory.doctor_cached`: with the clinic and the specialty, read once per
    directory generation): the slots are fresh, the doctors shared (docs/performance.md,
    «The nearest-time page: doctors from the directory's cache»)."""
    db = router.db_for_read(Slot)
    doctor_field = Slot._meta.get_field("doctor")
    slots = []
    for row in rows:
        doctor = directory.doctor_cached(row[1])
        if doctor is None:  # deleted since the ranking was kept: nothing to show
            continue
        slot = built(Slot, db, _SLOT_TIMES, row)
        doctor_field.set_cached_value(slot, doctor)
        slots.append(slot)
    return slots


@dataclass(frozen=True)
class NearestAnswer:
    """What the search found for a patient: a refusal code, or slots they may book."""

    refusal: str | None = None
    slots: list[Slot] = field(default_factory=list)
    # The attached clinic, when an attachment-only specialty narrowed a district search.
    narrowed_to: Clinic | None = None


def slots_list_nearest_for_patient(
    patient: Patient, actor_id: int, specialty: Specialty, *, district: District | None
) -> NearestAnswer:
    """«Ближайшее свободное время» for ``patient``: only slots the confirmation would accept.

    ``district=None`` searches the patient's attached clinic. An attachment-only
    specialty is always searched there, whatever district was asked for. Every rule of
    `rules.booking_refusal` applies: a refusal for the specialty as a whole answers
    instead of a list, clinics of the wrong kind (adult ones for a child) are left out,
    and so are times that overlap the patient's other appointments.
    """
    now = timezone.now()
    clinic = narrowed_to = None
    if district is None or specialty.access == Specialty.Access.ATTACHMENT:
        narrowed_to = patient.clinic if district is not None else None
        clinic, district = patient.clinic, None
    # The ranking first: kept per process and shared, it rarely costs a statement, and the
    # slots it names then come in the same read as the patient's active appointments.
    ranked = (
        _nearest_ranking(specialty, district, clinic, rules.clinic_kinds_for(patient), now)
        if clinic is not None or district is not None
        else []
    )
    active, slots = _active_and_slots(patient, ranked, now)
    refusal = rules.booking_refusal(
        patient, actor_id, clinic=clinic, specialty=specialty, active=active, now=now
    )
    if refusal is None and clinic is None and district is None:
        refusal = "no_attachment"
    if refusal is not None:
        return NearestAnswer(refusal=refusal)
    return NearestAnswer(
        slots=[
            slot
            for slot in slots
            if not rules.overlaps(slot, active)
            and rules.referral_allows(patient, specialty, slot.doctor.clinic_id)
        ],
        narrowed_to=narrowed_to,
    )


# --- appointments --------------------------------------------------------------------


def _active_and_bookable(
    patient_id: int, slot_ids: tuple[int, ...], now: datetime.datetime
) -> "QuerySet[Appointment, Row]":
    """The patient's active appointments (`active_part`) and which of ``slot_ids`` are
    bookable (`_NEAREST_SLOTS`'s rule), in one statement: the two reads of a nearest-time
    search, one round trip instead of two (docs/performance.md, «The nearest-time search
    in one read»)."""
    bookable = Part(
        Slot.objects.filter(bookable_q(now), pk__in=slot_ids),
        {name: F(name) for name in _SLOT_TIMES},
        order=("starts_at", "id"),
    )
    return together(active_part(patient_id, now), bookable)


_ACTIVE_AND_BOOKABLE = CompiledQuery(_active_and_bookable)


def _active_and_slots(
    patient: Patient, slot_ids: list[int], now: datetime.datetime
) -> tuple[list[Appointment], list[Slot]]:
    """`appointments_list_active` and the bookable slots of ``slot_ids`` with their
    doctors (as `slots_list_nearest`), earliest first."""
    if not slot_ids:
        return appointments_list_active(patient, now), []
    rows = _ACTIVE_AND_BOOKABLE.rows(patient.pk, padded(slot_ids), now)
    active, slots = apart(rows, len(ACTIVE_COLUMNS), len(_SLOT_TIMES))
    return active_built(active), _slots_with_doctors(slots)


def appointments_visible(user: User) -> QuerySet[Appointment]:
    """The appointments this user may see, open and cancel: the patients app's one rule
    of visibility (`patients.selectors.appointments_visible_to`; an unverified guardian
    sees only what they booked). «Мои записи», the ticket, the `.ics` and the FHIR API
    all read through here."""
    return Appointment.objects.filter(appointments_visible_to(user)).select_related(
        "patient", "specialty", "slot__doctor__clinic"
    )


def appointment_get_for_user(user: User, appointment_id: int) -> Appointment:
    """One place that fetches an appointment and checks the user may see it (else 404)."""
    appointment = appointments_visible(user).filter(pk=appointment_id).first()
    if appointment is None:
        raise Http404
    return appointment


# --- schedule changes (docs/workspace.md, «Schedules») --------------------------------


def schedule_rules_list(doctor_id: int) -> list[ScheduleRule]:
    """A doctor's weekly rules, current and ended, in the order the page lists them."""
    return list(
        ScheduleRule.objects.filter(doctor_id=doctor_id).order_by(
            "valid_until", "weekdays", "start_time", "pk"
        )
    )


def schedule_inputs(
    doctor_id: int, now: datetime.datetime, today: datetime.date
) -> tuple[list[ExistingSlot], list[tuple[datetime.date, datetime.date]]]:
    """What `schedule_changes.schedule_diff` compares a set of rules with: the doctor's
    slots that have not started, and the absences from today on."""
    existing = [
        ExistingSlot(*row)
        for row in Slot.objects.filter(doctor_id=doctor_id, starts_at__gt=now)
        .order_by("starts_at")
        .values_list("pk", "starts_at", "ends_at", "status", "opens_at")
    ]
    absences = list(
        Absence.objects.filter(doctor_id=doctor_id, ends_on__gte=today).values_list(
            "starts_on", "ends_on"
        )
    )
    return existing, absences


def schedule_affected_appointments(slot_ids: Collection[int]) -> list[Appointment]:
    """The active appointments on the slots a schedule change takes away, for the preview."""
    return list(
        Appointment.objects.filter(slot_id__in=slot_ids, status=Appointment.Status.BOOKED)
        .select_related("patient")
        .order_by("starts_at")
    )


def conflicts_hidden_from(viewer: User | AnonymousUser, patient: Patient) -> bool:
    """Whether the patient's other appointments are hidden from this viewer: an unverified
    guardian sees only what they did (docs/security.md, «one rule of visibility»), so a
    refusal must not name the specialty or the time of the others' bookings. The patient
    themself, a verified guardian and the clinic's staff (booking by phone) see them."""
    if patient.user_id is not None and patient.user_id == viewer.pk:
        return False
    return visibility_for(viewer).of_patient(patient.pk) is Sight.OWN_DOINGS


def refusal_told(code: str, *, conflicts_hidden: bool) -> str:
    """What a refusal tells a viewer from whom the other appointments are hidden: that
    another guardian's booking stands in the way, and no more."""
    if conflicts_hidden and code in CONFLICT_CODES:
        return "conflict_unseen"
    return code


def slot_opens_later(slot_id: int) -> bool:
    """Whether the slot exists and is not open for booking yet (one indexed read)."""
    return Slot.objects.filter(pk=slot_id, opens_at__gt=timezone.now()).exists()
