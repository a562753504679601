"""Writes of the workspace that are not booking state (that is the booking service's)."""

import uuid
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.forms import ModelForm

from portal.audit.models import AuditAction
from portal.audit.services import audit_record
from portal.identity.models import User
from portal.patients.models import InsuredPerson, Patient
from portal.patients.services import patient_discard_if_unused, patient_for_insured_person_made
from portal.scheduling.errors import BookingRefused
from portal.scheduling.services import BookingResult, appointment_book


def phone_appointment_book(
    *, actor: User, person: InsuredPerson, slot_id: int, idempotency_key: uuid.UUID, ip: str | None
) -> BookingResult:
    """Book by phone for an insured person; a refusal leaves no record of them behind.

    The record must exist before the booking (the booking service locks it), so a record
    created for this attempt is discarded when the attempt is refused (issue 24: refused
    attempts used to leave records of people who never booked). Another clerk may have
    found that record in between: their booking then meets no row, and is retried once
    with the record resolved again.
    """
    for _attempt in range(2):
        patient, created = patient_for_insured_person_made(person)
        try:
            return appointment_book(
                actor=actor,
                patient=patient,
                slot_id=slot_id,
                idempotency_key=idempotency_key,
                ip=ip,
            )
        except BookingRefused:
            if created:
                patient_discard_if_unused(patient.pk)
            raise
        except Patient.DoesNotExist:
            continue
    raise BookingRefused("busy")


def directory_save(*, actor: User, form: "ModelForm[Any]", ip: str | None) -> Model:
    """Save a validated directory form (the operator's) with its journal entry."""
    with transaction.atomic():
        created = form.instance.pk is None
        saved: Model = form.save()
        audit_record(
            AuditAction.DIRECTORY_CHANGED,
            actor=actor,
            ip=ip,
            model=saved._meta.model_name,
            object=saved.pk,
            created=created,
            fields=sorted(form.changed_data),
        )
    return saved


def registry_search_record(*, actor: User, ip: str | None, by: str, found: list[int]) -> None:
    """A clerk's search of the registry, in the journal: who, from where, how, and which
    persons it showed (their registry ids; names never go to the journal)."""
    audit_record(AuditAction.REGISTRY_SEARCHED, actor=actor, ip=ip, by=by, found=found)


def patient_search_record(*, actor: User, ip: str | None, by: str, found: list[int]) -> None:
    """A search of the patient card, journalled like the registry's: who, from where, how
    (policy, name or ticket) and which patient records it showed, never names."""
    audit_record(AuditAction.REGISTRY_SEARCHED, actor=actor, ip=ip, by=f"card_{by}", patients=found)
