"""Writes of the workspace that are not booking state (that is the booking service's)."""

from typing import Any

from django.db import transaction
from django.db.models import Model
from django.forms import ModelForm

from portal.audit.models import AuditAction
from portal.audit.services import audit_record
from portal.identity.models import User
from portal.patients.models import InsuredPerson, Patient
from portal.patients.services import patient_for_insured_person


def patient_from_registry_for_phone(person: InsuredPerson) -> Patient:
    """The patient record of an insured person a clerk books for by phone
    (`patients.services.patient_for_insured_person`, shared with the referrals)."""
    return patient_for_insured_person(person)


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
