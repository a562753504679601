"""Writes of the workspace that are not booking state (that is the booking service's)."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.forms import ModelForm

from portal.audit.models import AuditAction
from portal.audit.services import audit_record
from portal.identity.models import User
from portal.patients.models import InsuredPerson, Patient


def patient_from_registry(person: InsuredPerson) -> Patient:
    """The patient record of an insured person a clerk books for by phone.

    An account holder's own record is used when there is one (their appointments stay in
    one «Мои записи»); otherwise the one account-less record of that policy, created from
    the registry like a child's (the same partial unique index guards a twin request).
    """
    same_policy = Patient.objects.filter(
        policy_series=person.policy_series, policy_number=person.policy_number
    )
    existing = same_policy.filter(user__isnull=False).first() or same_policy.first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Patient.objects.create(
                last_name=person.last_name,
                first_name=person.first_name,
                middle_name=person.middle_name,
                birth_date=person.birth_date,
                sex=person.sex,
                policy_kind=person.policy_kind,
                policy_series=person.policy_series,
                policy_number=person.policy_number,
                insurer=person.insurer,
                clinic=person.clinic,
                area=person.area,
            )
    except IntegrityError:
        return same_policy.get(user__isnull=True)


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
