"""Writes of referrals (docs/referrals.md): the clinic issues and cancels them; the
booking service uses, gives back and carries them inside its own transaction.

The last three expect the booking service's locks (the patient, the slot, then the
referral rows, `locks.referrals_lock`); they are called by it alone.
"""

import datetime
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.audit.models import AuditAction
from portal.audit.services import audit_record
from portal.core.locking import lock_timeout_set
from portal.directory.models import Clinic, Doctor, Specialty
from portal.identity.models import User
from portal.patients.locks import patient_lock
from portal.patients.models import Patient
from portal.patients.rules import is_child
from portal.referrals.errors import ReferralRefused
from portal.referrals.events import referral_cancelled
from portal.referrals.locks import referral_lock
from portal.referrals.models import Referral
from portal.staff.permissions import staff_may_manage_clinic

MAX_VALID_DAYS = 366


def default_valid_until(issued_on: datetime.date) -> datetime.date:
    return issued_on + datetime.timedelta(days=settings.REFERRAL_VALID_DAYS)


def number_new(clinic_id: int, day: datetime.date) -> str:
    """A number a person can read out on the phone: the clinic, the date, six digits."""
    return f"{clinic_id:04d}-{day:%y%m%d}-{secrets.randbelow(10**6):06d}"


def _specialty_check(patient: Patient, specialty: Specialty, clinic: Clinic | None) -> None:
    if specialty.access != Specialty.Access.REFERRAL:
        raise ReferralRefused("specialty_direct")
    child = is_child(patient)
    if (specialty.age_group == Specialty.AgeGroup.CHILDREN and not child) or (
        specialty.age_group == Specialty.AgeGroup.ADULTS and child
    ):
        raise ReferralRefused("specialty_age")
    if clinic is not None and not clinic.doctors.filter(specialty=specialty).exists():
        raise ReferralRefused("clinic_lacks_specialty")


def _dates(
    valid_until: datetime.date | None, today: datetime.date, issued_on: datetime.date
) -> datetime.date:
    if issued_on > today:
        raise ReferralRefused("issued_future")
    until = valid_until or default_valid_until(issued_on)
    if until < today:
        raise ReferralRefused("valid_until_past")
    if until > today + datetime.timedelta(days=MAX_VALID_DAYS):
        raise ReferralRefused("valid_until_far")
    return until


def referral_validate(
    *,
    patient: Patient,
    specialty: Specialty,
    clinic: Clinic | None,
    issuer_clinic: Clinic,
    doctor: Doctor | None,
    valid_until: datetime.date | None,
    today: datetime.date,
    issued_on: datetime.date | None = None,
) -> datetime.date:
    """Every check of a new referral, shared by the workspace and the import: the patient
    is the issuing clinic's, the specialty needs a referral and suits the patient's age,
    the target clinic has it, the doctor works at the issuer; returns the validity date."""
    if patient.clinic_id != issuer_clinic.pk:
        raise ReferralRefused("patient_unknown")
    if doctor is not None and doctor.clinic_id != issuer_clinic.pk:
        raise ReferralRefused("doctor_foreign")
    _specialty_check(patient, specialty, clinic)
    return _dates(valid_until, today, issued_on or today)


@transaction.atomic
def referral_issue(
    *,
    actor: User | None,
    patient: Patient,
    specialty: Specialty,
    issuer_clinic: Clinic,
    clinic: Clinic | None = None,
    doctor: Doctor | None = None,
    valid_until: datetime.date | None = None,
    reason: str = "",
    number: str | None = None,
    issued_on: datetime.date | None = None,
    ip: str | None = None,
) -> Referral:
    """Issue a referral for ``patient`` (the caller found them in its clinic's scope).

    ``actor`` None is the clinic's information system (the import); a person must be
    staff of the issuing clinic.
    """
    if actor is not None and not staff_may_manage_clinic(actor, issuer_clinic.pk):
        raise ReferralRefused("not_yours")
    today = timezone.localdate()
    until = referral_validate(
        patient=patient,
        specialty=specialty,
        clinic=clinic,
        issuer_clinic=issuer_clinic,
        doctor=doctor,
        valid_until=valid_until,
        today=today,
        issued_on=issued_on,
    )
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                number=number or number_new(issuer_clinic.pk, today),
                patient=patient,
                specialty=specialty,
                clinic=clinic,
                issuer_clinic=issuer_clinic,
                issuer_doctor=doctor,
                entered_by=actor,
                issued_on=issued_on or today,
                valid_until=until,
                reason=reason.strip(),
            )
    except IntegrityError:
        raise ReferralRefused("number_taken") from None
    audit_record(
        AuditAction.REFERRAL_ISSUED,
        actor=actor,
        ip=ip,
        patient=patient,
        referral=referral.pk,
        number=referral.number,
        specialty=specialty.pk,
    )
    return referral


@transaction.atomic(durable=True)
def referral_cancel(*, actor: User, referral_id: int, reason: str, ip: str | None) -> Referral:
    """The issuing clinic cancels a referral issued in error. An appointment already booked
    by it stays (the clerk decides about it: `selectors.flagged_for_clinic`); the patient
    is told (`events.referral_cancelled`). Takes the booking's lock order — the patient,
    then the referral — so a booking by it either finished before (and is flagged) or is
    refused after, and the two never wait on each other in a cycle (docs/concurrency.md)."""
    reason = reason.strip()
    if not reason:
        raise ReferralRefused("cancel_no_reason")
    lock_timeout_set()
    patient_id = Referral.objects.filter(pk=referral_id).values_list("patient_id", flat=True)
    if not patient_id:
        raise ReferralRefused("not_found")
    patient_lock(patient_id[0])
    referral = referral_lock(referral_id)
    if referral is None:
        raise ReferralRefused("not_found")
    if not actor.is_superuser and not staff_may_manage_clinic(actor, referral.issuer_clinic_id):
        raise ReferralRefused("not_yours")
    if referral.status == Referral.Status.CANCELLED:
        raise ReferralRefused("already_cancelled")
    Referral.objects.filter(pk=referral.pk).update(
        status=Referral.Status.CANCELLED, cancelled_at=timezone.now(), cancel_reason=reason
    )
    referral.refresh_from_db()
    audit_record(
        AuditAction.REFERRAL_CANCELLED,
        actor=actor,
        ip=ip,
        patient=referral.patient,
        referral=referral.pk,
        number=referral.number,
        **({"appointment": referral.appointment_id} if referral.appointment_id else {}),
    )
    referral_cancelled.send(sender=Referral, referral=referral)
    return referral


# --- called by the booking service, under its locks ------------------------------------


def referral_use(
    referral: Referral, *, appointment_id: int, actor: User, patient: Patient, ip: str | None
) -> None:
    """The booking uses ``referral`` (locked, checked usable): it backs the appointment."""
    Referral.objects.filter(pk=referral.pk).update(
        status=Referral.Status.USED, appointment_id=appointment_id, used_at=timezone.now()
    )
    audit_record(
        AuditAction.REFERRAL_USED,
        actor=actor,
        ip=ip,
        patient=patient,
        referral=referral.pk,
        number=referral.number,
        appointment=appointment_id,
    )


def referral_give_back(
    *, appointment_id: int, actor: User | None, patient: Patient, ip: str | None
) -> None:
    """The appointment a referral backed is cancelled: the referral is active again. One
    already past its date is freed as well and reads "expired" (`rules.referral_state`);
    only a still valid one is announced as given back."""
    referral = (
        Referral.objects.filter(appointment_id=appointment_id, status=Referral.Status.USED)
        .select_for_update(of=("self",))
        .first()
    )
    if referral is None:
        return
    Referral.objects.filter(pk=referral.pk).update(
        status=Referral.Status.ACTIVE, appointment=None, used_at=None
    )
    if referral.valid_until >= timezone.localdate():
        audit_record(
            AuditAction.REFERRAL_RETURNED,
            actor=actor,
            ip=ip,
            patient=patient,
            referral=referral.pk,
            number=referral.number,
            appointment=appointment_id,
        )


def referral_carry(*, from_appointment_id: int, to_appointment_id: int) -> None:
    """A move keeps the referral on the new appointment (the old one is cancelled in the
    same transaction, so the unique link moves without ever being doubled)."""
    Referral.objects.filter(appointment_id=from_appointment_id).update(
        appointment_id=to_appointment_id
    )
