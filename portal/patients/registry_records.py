"""The patient records a clinic acts on for a person of the registry of insured persons:
found, created from the registry, or — when an action for a record just created is
refused — discarded again. Re-exported by `patients.services`."""

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from portal.patients.models import InsuredPerson, Patient


def patient_for_insured_person(person: InsuredPerson) -> Patient:
    """The patient record a clinic acts on for an insured person (booking by phone, a
    referral): an account holder's own record when there is one (their appointments and
    referrals stay in their one cabinet); otherwise the one account-less record of that
    policy, the same that a parent adding this child would get (`patient_from_registry`).
    """
    return patient_for_insured_person_made(person)[0]


def patient_for_insured_person_made(person: InsuredPerson) -> tuple[Patient, bool]:
    """`patient_for_insured_person`, and whether this call created the record (so that an
    action refused right after can discard it: `patient_discard_if_unused`)."""
    same_policy = Patient.objects.filter(
        policy_series=person.policy_series, policy_number=person.policy_number
    )
    holder = same_policy.filter(user__isnull=False).first()
    if holder is not None:
        return holder, False
    existed = same_policy.exists()
    return patient_from_registry(person), not existed


def patient_from_registry(person: InsuredPerson) -> Patient:
    """The one account-less patient record of this policy (a child's, shared by both
    parents; one a clerk books for by phone), created from the registry or refreshed
    from it: the registry is the source of truth for names, insurer and attachment."""
    values = {
        "last_name": person.last_name,
        "first_name": person.first_name,
        "middle_name": person.middle_name,
        "birth_date": person.birth_date,
        "sex": person.sex,
        "policy_kind": person.policy_kind,
        "insurer": person.insurer,
        "clinic": person.clinic,
        "area": person.area,
    }
    lookup = {
        "user__isnull": True,
        "policy_series": person.policy_series,
        "policy_number": person.policy_number,
    }
    child = Patient.objects.filter(**lookup).first()
    if child is None:
        try:
            # A savepoint: the other parent may be creating the same child right now;
            # the partial unique index lets only one of us win, the other reads it.
            with transaction.atomic():
                return Patient.objects.create(
                    policy_series=person.policy_series,
                    policy_number=person.policy_number,
                    **values,
                )
        except IntegrityError:
            child = Patient.objects.get(**lookup)
    # The registry is the source of truth for insurer and attachment: refresh them.
    for field, value in values.items():
        setattr(child, field, value)
    child.save(update_fields=[*values.keys(), "updated_at"])
    return child


def patient_discard_if_unused(patient_id: int) -> bool:
    """Delete an account-less record nothing refers to: one created for a phone booking
    that was then refused. An appointment, a guardianship, a request or a journal entry
    made meanwhile (by another clerk, or a parent adding the child) keeps it: they all
    protect the row."""
    try:
        with transaction.atomic():
            deleted, _ = Patient.objects.filter(pk=patient_id, user__isnull=True).delete()
    except ProtectedError:
        return False
    return deleted > 0
