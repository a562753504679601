"""Reads of referrals: what the rule needs, the patient's page, the clinic's list."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import router
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from portal.core.compiled import CompiledQuery
from portal.core.rows import built
from portal.directory import selectors as directory
from portal.directory.models import Clinic, Specialty
from portal.patients.models import Patient
from portal.patients.rules import is_child
from portal.patients.selectors import visibility_for
from portal.referrals import rules
from portal.referrals.models import Referral

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from portal.identity.models import User

_HELD = "_referrals_held"


def today() -> datetime.date:
    return timezone.localdate()


def held_query(patient_id: int) -> QuerySet[Referral]:
    """Active referrals (expired ones included: the rule tells them apart by date) and used
    ones, which a move carries to the new time."""
    return (
        Referral.objects.filter(
            patient_id=patient_id, status__in=(Referral.Status.ACTIVE, Referral.Status.USED)
        )
        .select_related("issuer_clinic", "issuer_doctor", "clinic")
        .order_by("pk")
    )


HELD_COLUMNS = [f.attname for f in Referral._meta.concrete_fields]


def held_rows(patient_id: int) -> QuerySet[Referral]:
    """`held_query` without its joins: what `referrals_held` reads (`HELD_COLUMNS` of
    each row, by id), for a page that sends it within a read of its own and keeps the
    rows with `referrals_held_keep`."""
    return held_query(patient_id).select_related(None)


_HELD_READ = CompiledQuery(lambda patient_id: held_rows(patient_id).values_list(*HELD_COLUMNS))


def referrals_held(patient: Patient) -> list[Referral]:
    """The rows the referral rule reads for ``patient``, loaded once per patient object:
    a page asking the rule for many specialties costs one query, compiled once
    (`core.compiled`), the clinics and doctor from the directory's cache. The booking
    service does not use this: it locks the rows (`locks.referrals_lock`) and passes them."""
    cached: list[Referral] | None = getattr(patient, _HELD, None)
    if cached is None:
        cached = referrals_held_keep(patient, _HELD_READ.rows(patient.pk))
    return cached


def referrals_held_known(patient: Patient) -> bool:
    """Whether `referrals_held` has this patient object's rows already."""
    return hasattr(patient, _HELD)


def referrals_held_keep(patient: Patient, rows: Iterable[tuple[Any, ...]]) -> list[Referral]:
    """Keep ``rows`` (of `held_rows`, in id order) as what `referrals_held` answers for
    this patient object."""
    db = router.db_for_read(Referral)
    kept = [_with_directory(built(Referral, db, HELD_COLUMNS, row)) for row in rows]
    setattr(patient, _HELD, kept)
    return kept


def _with_directory(referral: Referral) -> Referral:
    """What `held_query` joins, from the directory's cache (read by the ORM when missing)."""
    fields = Referral._meta
    if found := directory.clinic_cached(referral.issuer_clinic_id):
        fields.get_field("issuer_clinic").set_cached_value(referral, found)
    if referral.clinic_id is not None and (found := directory.clinic_cached(referral.clinic_id)):
        fields.get_field("clinic").set_cached_value(referral, found)
    if referral.issuer_doctor_id is not None and (
        doctor := directory.doctor_cached(referral.issuer_doctor_id)
    ):
        fields.get_field("issuer_doctor").set_cached_value(referral, doctor)
    return referral


def referrals_fitting(
    patient: Patient, specialty: Specialty, clinic_id: int | None
) -> list[Referral]:
    """The referrals a booking of ``specialty`` at ``clinic_id`` could use, soonest
    expiring first (the wizard names the one it will use, or lets the patient pick);
    empty for a specialty that needs none."""
    if specialty.access != Specialty.Access.REFERRAL:
        return []
    return rules.referrals_fitting(referrals_held(patient), specialty.pk, clinic_id, today())


def referral_backing(appointment_id: int) -> Referral | None:
    """The referral an appointment was booked by (the ticket names it), if any."""
    return (
        Referral.objects.filter(appointment_id=appointment_id)
        .select_related("issuer_clinic")
        .first()
    )


def referrals_visible(
    viewer: "User | AnonymousUser", patient: Patient | None = None
) -> QuerySet[Referral]:
    """Referrals (of ``patient``, or of everyone) as ``viewer`` may read them, through the
    one rule of visibility (`patients.selectors.visibility_for`): all of their own and of
    a child under a verified guardianship; of a child under a guardianship not yet
    verified only those they entered themselves — none, since clinics issue them
    (docs/security.md). Anyone else's: none."""
    seen = visibility_for(viewer).records(author="entered_by_id")
    rows = Referral.objects.filter(seen)
    if patient is not None:
        rows = rows.filter(patient=patient)
    return rows.select_related(
        "specialty",
        "clinic",
        "issuer_clinic",
        "issuer_doctor",
        "appointment__slot__doctor__clinic",
    ).order_by("-issued_on", "-pk")


def referral_get_visible(viewer: "User | AnonymousUser", referral_id: int) -> Referral:
    """One referral the viewer may see, else 404 (another person's id included)."""
    referral = referrals_visible(viewer).select_related("patient").filter(pk=referral_id).first()
    if referral is None:
        raise Http404
    return referral


@dataclass(frozen=True)
class ReferralRow:
    referral: Referral
    state: str  # active, used, expired, cancelled (`rules.referral_state`)


def referral_rows(referrals: Iterable[Referral], *, keep_order: bool = False) -> list[ReferralRow]:
    """Each referral with its state; the patient's page puts active ones first (soonest
    expiring first), then the rest; the clinic's list keeps its own order."""
    day = today()
    rows = [ReferralRow(r, rules.referral_state(r, day)) for r in referrals]
    if keep_order:
        return rows
    order = {"active": 0, "used": 1, "expired": 2, "cancelled": 3}
    return sorted(rows, key=lambda row: (order[row.state], row.referral.valid_until))


def clinics_for_referral(referral: Referral, patient: Patient) -> list[Clinic]:
    """Where a referral may be used: the clinic it names, or every clinic with an active
    doctor of the specialty that receives the patient's age (`scheduling.rules`' kinds)."""
    if referral.clinic is not None:
        return [referral.clinic]
    kinds = (
        (Clinic.Kind.CHILDREN, Clinic.Kind.MIXED)
        if is_child(patient)
        else (Clinic.Kind.ADULT, Clinic.Kind.MIXED)
    )
    return list(
        Clinic.objects.filter(
            kind__in=kinds,
            doctors__specialty_id=referral.specialty_id,
            doctors__is_active=True,
        )
        .distinct()
        .select_related("district")
        .order_by("district__position", "short_name")
    )


def referrals_of_clinic(clinic_ids: list[int] | None) -> QuerySet[Referral]:
    """Referrals a clinic issued (``None``: every clinic, for the regional operator)."""
    rows = Referral.objects.select_related(
        "patient", "specialty", "clinic", "issuer_clinic", "issuer_doctor", "appointment"
    ).order_by("-issued_on", "-pk")
    return rows if clinic_ids is None else rows.filter(issuer_clinic_id__in=clinic_ids)


def referrals_expiring(day: datetime.date) -> QuerySet[Referral]:
    """Active referrals whose last valid day is ``day`` (the expiry reminder)."""
    return Referral.objects.filter(status=Referral.Status.ACTIVE, valid_until=day)


def flagged_for_clinic(clinic_ids: list[int] | None) -> QuerySet[Referral]:
    """Referrals cancelled in error while an appointment they backed stays booked: the
    clerk decides about that appointment (docs/referrals.md)."""
    return referrals_of_clinic(clinic_ids).filter(
        Q(status=Referral.Status.CANCELLED) & Q(appointment__status="booked")
    )
