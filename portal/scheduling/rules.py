"""The booking rules, each in one function (docs/domain.md, «Booking»).

`booking_refusal` combines the place rules in the one order every caller uses: the
wizard pages (to show an unavailable choice with its reason instead of hiding it), the
nearest-time search (to offer only what the confirmation would accept), the API, and
`appointment_book` under its locks, where the answer is authoritative. So every page
names the same first reason.

The functions return a code of `errors.ERRORS` (or None) and read no rows: callers pass
what they have already loaded, so a list page costs no query per item. The one exception
is the referral rule (`referrals.rules`): a caller that did not load the patient's
referrals (``referrals=None``) gets them read once per patient object
(`referrals.selectors.referrals_held`), and only for a referral-only specialty.
"""

import datetime
from collections.abc import Iterable, Sequence
from typing import Protocol

from django.utils import timezone

from portal.directory.models import Clinic, Doctor, Specialty
from portal.patients.models import Patient
from portal.patients.rules import child_refusal, is_child, policy_refusal, today_local
from portal.referrals.rules import ReferralFacts, referral_refusal
from portal.referrals.selectors import referrals_held
from portal.scheduling.models import Appointment, Slot


class TimeSpan(Protocol):
    """Anything with a start and an end: a slot, an appointment."""

    @property
    def starts_at(self) -> datetime.datetime: ...

    @property
    def ends_at(self) -> datetime.datetime: ...


class ActiveAppointment(TimeSpan, Protocol):
    @property
    def specialty_id(self) -> int: ...


class MovableAppointment(ActiveAppointment, Protocol):
    @property
    def pk(self) -> int: ...

    @property
    def status(self) -> str: ...


def clinic_kinds_for(patient: Patient) -> frozenset[str]:
    """The kinds of clinic that receive this patient: the search filters by the same set."""
    if is_child(patient):
        return frozenset({Clinic.Kind.CHILDREN, Clinic.Kind.MIXED})
    return frozenset({Clinic.Kind.ADULT, Clinic.Kind.MIXED})


def is_own_clinic(patient: Patient, clinic: Clinic) -> bool:
    """The clinic the patient is attached to (marked in the wizard)."""
    return patient.clinic_id is not None and patient.clinic_id == clinic.pk


def is_district_doctor(patient: Patient, doctor: Doctor) -> bool:
    """The patient's участковый: a doctor of the attached clinic serving the patient's
    area number (docs/domain.md). No area on either side means no district doctor."""
    return (
        bool(doctor.area)
        and doctor.area == patient.area
        and patient.clinic_id is not None
        and doctor.clinic_id == patient.clinic_id
    )


def clinic_refusal(patient: Patient, clinic: Clinic) -> str | None:
    if clinic.kind in clinic_kinds_for(patient):
        return None
    return "clinic_adults" if clinic.kind == Clinic.Kind.ADULT else "clinic_children"


def specialty_age_groups_for(patient: Patient) -> frozenset[str]:
    """The specialties' age groups that receive this patient: «Ближайшее свободное время»
    offers only these (issue 27: adults were offered «Педиатр»)."""
    if is_child(patient):
        return frozenset({Specialty.AgeGroup.CHILDREN, Specialty.AgeGroup.ALL})
    return frozenset({Specialty.AgeGroup.ADULTS, Specialty.AgeGroup.ALL})


def specialty_refusal(
    patient: Patient,
    specialty: Specialty,
    clinic: Clinic | None,
    *,
    referrals: Sequence[ReferralFacts] | None = None,
    moving: int | None = None,
) -> str | None:
    """Why this patient cannot book this specialty at ``clinic``.

    ``clinic=None`` means the clinic is not chosen yet: only what holds at every clinic
    is checked, so an attachment-only specialty is refused only to a patient attached
    nowhere (the search then looks at the attached clinic alone), and a referral-only one
    to a patient with no usable referral to it. ``referrals``: the patient's rows for the
    referral rule (the booking service passes the ones it locked); ``moving``: the
    appointment being moved, whose referral moves with it.
    """
    if specialty.access == Specialty.Access.REFERRAL:
        held = referrals if referrals is not None else referrals_held(patient)
        code = referral_refusal(
            held,
            specialty.pk,
            clinic.pk if clinic is not None else None,
            today_local(),
            moving,
        )
        if code:
            return code
    if specialty.age_group not in specialty_age_groups_for(patient):
        return (
            "children_only" if specialty.age_group == Specialty.AgeGroup.CHILDREN else "adults_only"
        )
    if specialty.access == Specialty.Access.ATTACHMENT:
        if patient.clinic_id is None:
            return "no_attachment"
        if clinic is not None and patient.clinic_id != clinic.pk:
            return "attachment_only"
    return None


def referral_allows(patient: Patient, specialty: Specialty, clinic_id: int) -> bool:
    """Whether the referral rule lets ``patient`` book ``specialty`` at this clinic (true
    for a specialty that needs no referral): the nearest-time search keeps only such times."""
    if specialty.access != Specialty.Access.REFERRAL:
        return True
    held = referrals_held(patient)
    return referral_refusal(held, specialty.pk, clinic_id, today_local()) is None


def booking_refusal(
    patient: Patient,
    actor_id: int | None,
    *,
    clinic: Clinic | None = None,
    specialty: Specialty | None = None,
    active: Iterable[ActiveAppointment] | None = None,
    now: datetime.datetime | None = None,
    referrals: Sequence[ReferralFacts] | None = None,
    moving: int | None = None,
) -> str | None:
    """The first reason ``actor_id`` may not book for ``patient`` at this place, or None.

    The one order: the patient as a whole (a child over CHILD_MAX_AGE, no OMS policy),
    then the clinic's
    kind (adult / children's), then the specialty (referral, age group, attachment), then
    the patient's appointments in it (``active``, from `selectors.appointments_list_active`;
    leave it out where they are not loaded). Pass as much of the place as is chosen; for
    a doctor, their clinic and specialty.
    """
    refusal = (
        child_refusal(patient, actor_id)
        or policy_refusal(patient)
        or (clinic_refusal(patient, clinic) if clinic is not None else None)
        or (
            specialty_refusal(patient, specialty, clinic, referrals=referrals, moving=moving)
            if specialty is not None
            else None
        )
    )
    if refusal is None and specialty is not None and active is not None:
        refusal = same_specialty_refusal(active, specialty.pk, now or timezone.now())
    return refusal


def same_specialty_refusal(
    active: Iterable[ActiveAppointment], specialty_id: int, now: datetime.datetime
) -> str | None:
    """One future appointment per patient per specialty.

    ``active``: the patient's booked appointments (see `selectors.appointments_list_active`).
    """
    if any(a.specialty_id == specialty_id and a.starts_at > now for a in active):
        return "same_specialty"
    return None


def overlaps(span: TimeSpan, active: Iterable[TimeSpan]) -> bool:
    return any(a.starts_at < span.ends_at and a.ends_at > span.starts_at for a in active)


def overlap_refusal(span: TimeSpan, active: Iterable[TimeSpan]) -> str | None:
    """No two overlapping appointments for one patient."""
    return "overlap" if overlaps(span, active) else None


def slot_refusal(slot: Slot, now: datetime.datetime) -> str | None:
    """Why a slot cannot be booked now. Authoritative only under the slot lock."""
    if slot.status == Slot.Status.BOOKED:
        return "slot_taken"
    if slot.status == Slot.Status.BLOCKED or not slot.doctor.is_active:
        return "slot_blocked"
    if slot.starts_at <= now:
        return "slot_past"
    if slot.opens_at > now:
        return "slot_not_open"
    return None


def is_held_for_other(slot: Slot, patient_id: int | None, now: datetime.datetime) -> bool:
    """A hold that has not expired and belongs to someone else."""
    return slot.held_until is not None and slot.held_until > now and slot.held_for_id != patient_id


class HoldFacts(Protocol):
    """What the hold rules read of a slot: a `Slot`, or the booking's lock-free glance."""

    @property
    def held_for_id(self) -> int | None: ...
    @property
    def held_until(self) -> datetime.datetime | None: ...


def is_draw_reservation(slot: HoldFacts, now: datetime.datetime) -> bool:
    """A live hold for nobody: the slot is kept for a fair-release draw (docs/fair-release.md)
    and no patient may book or see it until the draw gives it out or lets it go."""
    return slot.held_for_id is None and slot.held_until is not None and slot.held_until > now


def hold_refusal(slot: Slot, patient_id: int | None, now: datetime.datetime) -> str | None:
    """A held slot is bookable only by the patient it is held for, until the hold ends;
    a slot kept for a draw by no one but the draw (`draw_booking.appointments_book_for_draw`)."""
    if is_draw_reservation(slot, now):
        return "slot_in_draw"
    return "slot_held" if is_held_for_other(slot, patient_id, now) else None


def slot_booking_refusal(
    patient: Patient,
    actor_id: int | None,
    slot: Slot,
    *,
    active: Iterable[ActiveAppointment],
    now: datetime.datetime,
    referrals: Sequence[ReferralFacts] | None = None,
    moving: int | None = None,
) -> str | None:
    """The whole decision for one slot, in the booking service's order: the slot's state,
    then `booking_refusal` for its doctor, then the overlap with the patient's others.

    The confirmation page asks it to explain before the click; `appointment_book` asks
    it again under the locks, where the answer is authoritative.
    """
    active = list(active)
    doctor = slot.doctor
    return (
        slot_refusal(slot, now)
        or hold_refusal(slot, patient.pk, now)
        or booking_refusal(
            patient,
            actor_id,
            clinic=doctor.clinic,
            specialty=doctor.specialty,
            active=active,
            now=now,
            referrals=referrals,
            moving=moving,
        )
        or overlap_refusal(slot, active)
    )


def move_refusal(current: MovableAppointment, now: datetime.datetime) -> str | None:
    """Why an appointment cannot be moved at all: it has ended or begun."""
    if current.status != Appointment.Status.BOOKED:
        return "reschedule_not_active"
    if current.starts_at <= now:
        return "reschedule_too_late"
    return None


def reschedule_refusal(
    patient: Patient,
    actor_id: int | None,
    current: MovableAppointment,
    slot: Slot,
    *,
    active: Iterable[MovableAppointment],
    now: datetime.datetime,
    referrals: Sequence[ReferralFacts] | None = None,
) -> str | None:
    """The whole decision for moving ``current`` to ``slot``: the page asks it before the
    click, `appointment_reschedule` again under its locks.

    The new time is of the same specialty (another one is a new booking, not a move),
    and `slot_booking_refusal` decides the rest without ``current``: it is cancelled in
    the same transaction, so neither one-per-specialty nor the overlap may count it; the
    referral that backs it moves with it (to a clinic the referral allows).
    """
    if refusal := move_refusal(current, now):
        return refusal
    if slot.doctor.specialty_id != current.specialty_id:
        return "reschedule_other_specialty"
    others = [a for a in active if a.pk != current.pk]
    return slot_booking_refusal(
        patient, actor_id, slot, active=others, now=now, referrals=referrals, moving=current.pk
    )
