"""Writes about patients: the registry match, adding and removing relatives, acting for.

The rules of docs/domain.md, «Relatives», live in ``relative_check``; the form and the
one-click «Добавить из Госуслуг» both go through it, and ``relative_add`` runs
it again under the guardian's row lock so that two submits cannot slip a
duplicate past each other.
"""

import logging
import re
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from portal.audit.models import AuditAction
from portal.audit.selectors import refusal_already_recorded
from portal.audit.services import audit_record
from portal.core.locking import busy_on_lock_timeout, lock_timeout_set
from portal.patients.errors import RELATIVE_ERRORS
from portal.patients.esia_kids import ChildFacts, listed_in_esia_kids
from portal.patients.locks import patient_lock
from portal.patients.models import (
    Guardianship,
    InsuredPerson,
    Patient,
    PolicyKind,
    Sex,
    age_on,
)
from portal.patients.registry_records import (
    patient_discard_if_unused as patient_discard_if_unused,
)
from portal.patients.registry_records import (
    patient_for_insured_person as patient_for_insured_person,
)
from portal.patients.registry_records import (
    patient_for_insured_person_made as patient_for_insured_person_made,
)
from portal.patients.registry_records import patient_from_registry as patient_from_registry
from portal.patients.rules import ADULT_AGE
from portal.patients.selectors import patient_get_for_user, registry_person_by_policy
from portal.patients.validators import is_valid_enp, name_key

if TYPE_CHECKING:
    from portal.identity.models import User

logger = logging.getLogger(__name__)


_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Policy:
    kind: str
    series: str
    number: str


def policy_parse(series: str, number: str) -> Policy:
    """Tell the policy kind from what was typed; ValidationError keyed by field."""
    series = _SPACES.sub("", series or "").upper()
    number = _SPACES.sub("", number or "")
    if series:
        if len(series) > 10:
            raise ValidationError({"policy_series": RELATIVE_ERRORS["old_series"]})
        if not number or len(number) > 16:
            raise ValidationError({"policy_number": RELATIVE_ERRORS["policy_format"]})
        return Policy(PolicyKind.OLD, series, number)
    if not number.isdigit():
        raise ValidationError({"policy_number": RELATIVE_ERRORS["policy_digits"]})
    if len(number) == 9:
        return Policy(PolicyKind.TEMPORARY, "", number)
    if len(number) != 16:
        raise ValidationError({"policy_number": RELATIVE_ERRORS["policy_format"]})
    if not is_valid_enp(number):
        raise ValidationError({"policy_number": RELATIVE_ERRORS["enp_control"]})
    return Policy(PolicyKind.UNIFIED, "", number)


def registry_matches(
    person: InsuredPerson, last_name: str, first_name: str, middle_name: str, birth_date: date
) -> bool:
    return (
        name_key(person.last_name) == name_key(last_name)
        and name_key(person.first_name) == name_key(first_name)
        and name_key(person.middle_name) == name_key(middle_name)
        and person.birth_date == birth_date
    )


# The age of majority: a younger account holder (ESIA accounts start at 14) may hold
# only a child ESIA itself lists for them.


@dataclass(frozen=True)
class RelativeData:
    last_name: str
    first_name: str
    middle_name: str
    birth_date: date
    sex: str
    relation: str
    policy_series: str
    policy_number: str


def _typed_child(data: RelativeData) -> ChildFacts:
    return ChildFacts(
        data.last_name,
        data.first_name,
        data.middle_name,
        data.birth_date,
        data.policy_series,
        data.policy_number,
    )


def relative_check(guardian: Patient, data: RelativeData) -> InsuredPerson:
    """Every rule of docs/domain.md «Relatives» for adding a child; returns the registry record.

    Raises ValidationError with a message at each field that breaks a rule.
    """
    errors: dict[str, list[Any]] = {}
    today = timezone.localdate()
    if data.birth_date > today:
        errors.setdefault("birth_date", []).append(RELATIVE_ERRORS["birth_future"])
    elif age_on(data.birth_date, today) >= settings.CHILD_MAX_AGE:
        errors.setdefault("birth_date", []).append(
            RELATIVE_ERRORS["too_old"] % {"age": settings.CHILD_MAX_AGE}
        )
    expected_sex = Sex.MALE if data.relation == Guardianship.Relation.SON else Sex.FEMALE
    if data.sex not in Sex.values or data.relation not in Guardianship.Relation.values:
        errors.setdefault("sex", []).append(RELATIVE_ERRORS["sex_missing"])
    elif data.sex != expected_sex:
        errors.setdefault("relation", []).append(
            RELATIVE_ERRORS["relation_sex"]
            % {
                "relation": Guardianship.Relation(data.relation).label,
                "sex": Sex(data.sex).label,
            }
        )
    # Before the registry is asked: a minor must not learn which policies exist.
    if guardian.age_on(today) < ADULT_AGE and not listed_in_esia_kids(guardian, _typed_child(data)):
        errors.setdefault(NON_FIELD_ERRORS, []).append(
            RELATIVE_ERRORS["guardian_minor"] % {"age": ADULT_AGE}
        )
        raise ValidationError(errors)
    try:
        policy = policy_parse(data.policy_series, data.policy_number)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
        raise ValidationError(errors) from None
    if (policy.series, policy.number) == (guardian.policy_series, guardian.policy_number):
        errors.setdefault("policy_number", []).append(RELATIVE_ERRORS["own_policy"])
        raise ValidationError(errors)
    person = registry_person_by_policy(policy.series, policy.number)
    if person is None or not registry_matches(
        person, data.last_name, data.first_name, data.middle_name, data.birth_date
    ):
        errors.setdefault("policy_number", []).append(RELATIVE_ERRORS["registry_mismatch"])
        raise ValidationError(errors)
    if person.sex != data.sex:
        errors.setdefault("sex", []).append(RELATIVE_ERRORS["registry_sex"])

    if Guardianship.objects.filter(
        guardian=guardian,
        ended_at__isnull=True,
        child__policy_series=policy.series,
        child__policy_number=policy.number,
    ).exists():
        errors.setdefault("policy_number", []).append(RELATIVE_ERRORS["duplicate"])
    elif _revoked_before(guardian, policy) and not listed_in_esia_kids(
        guardian, _typed_child(data)
    ):
        # Otherwise a revoked stranger would simply add the child again.
        errors.setdefault(NON_FIELD_ERRORS, []).append(RELATIVE_ERRORS["revoked"])
    if errors:
        raise ValidationError(errors)
    return person


def _revoked_before(guardian: Patient, policy: Policy) -> bool:
    return Guardianship.objects.filter(
        guardian=guardian,
        end_reason=Guardianship.EndReason.REVOKED,
        child__policy_series=policy.series,
        child__policy_number=policy.number,
    ).exists()


def guardianship_event_record(
    action: AuditAction,
    guardianship: Guardianship,
    *,
    actor: "User | None",
    ip: str | None,
    device: str,
    **details: Any,
) -> None:
    """A guardianship changes two journals: the child's and the guardian's own."""
    audit_record(
        action,
        actor=actor,
        ip=ip,
        patient=guardianship.child,
        guardianship_id=guardianship.pk,
        guardian_id=guardianship.guardian_id,
        device=device,
        **details,
    )
    audit_record(
        action,
        actor=actor,
        ip=ip,
        patient=guardianship.guardian,
        guardianship_id=guardianship.pk,
        child_id=guardianship.child_id,
        device=device,
        **details,
    )


def guardianship_end(
    guardianship: Guardianship,
    *,
    reason: str,
    action: AuditAction,
    actor: "User",
    ip: str | None,
    device: str,
) -> None:
    """End a guardianship (the caller holds its row lock); the row stays for history."""
    guardianship.ended_at = timezone.now()
    guardianship.end_reason = reason
    guardianship.ended_by = actor
    guardianship.save(update_fields=["ended_at", "end_reason", "ended_by"])
    guardianship_event_record(action, guardianship, actor=actor, ip=ip, device=device)


def _busy() -> ValidationError:
    return ValidationError({NON_FIELD_ERRORS: [RELATIVE_ERRORS["busy"]]})


def relative_add(
    guardian: Patient,
    data: RelativeData,
    *,
    source: str,
    actor: "User | None" = None,
    ip: str | None = None,
    device: str = "",
) -> Guardianship:
    """Check every rule under the guardian's row lock, then link the child."""
    with busy_on_lock_timeout(_busy), transaction.atomic(durable=True):
        # Serialises one guardian's concurrent submits (no-op on SQLite, where the
        # IMMEDIATE transaction already serialises writers), time-boxed like every lock.
        lock_timeout_set()
        patient_lock(guardian.pk)
        person = relative_check(guardian, data)
        child = patient_from_registry(person)
        # Then the child's row: two guardians adding the same child at once must not
        # both pass the limit (always guardian first, then child: no lock cycle).
        patient_lock(child.pk)
        others = list(
            Guardianship.objects.filter(child=child, ended_at__isnull=True).values_list(
                "pk", flat=True
            )
        )
        if len(others) >= settings.GUARDIANS_PER_CHILD_MAX:
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: [
                        RELATIVE_ERRORS["too_many_guardians"]
                        % {"max": settings.GUARDIANS_PER_CHILD_MAX}
                    ]
                }
            )
        verified = listed_in_esia_kids(guardian, ChildFacts.of_insured(person))
        try:
            with transaction.atomic():
                guardianship = Guardianship.objects.create(
                    guardian=guardian,
                    child=child,
                    relation=data.relation,
                    source=source,
                    verified_at=timezone.now() if verified else None,
                    verified_how=Guardianship.Verification.ESIA if verified else "",
                )
        except IntegrityError:
            raise ValidationError({"policy_number": [RELATIVE_ERRORS["duplicate"]]}) from None
        if others:
            transaction.on_commit(partial(guardians_notify_new_guardian, guardianship.pk))
        guardianship_event_record(
            AuditAction.RELATIVE_ADDED,
            guardianship,
            actor=actor,
            ip=ip,
            device=device,
            source=source,
            relation=data.relation,
            verified=verified,
        )
    return guardianship


def relative_from_esia_kid(kid: dict[str, Any]) -> RelativeData:
    """An ESIA ``kids`` element (as the login stored it) in the shape of the form."""
    sex = kid.get("sex") or ""
    try:
        birth = date.fromisoformat(kid.get("birth_date") or "")
    except ValueError:
        birth = date.min
    return RelativeData(
        last_name=kid.get("last_name") or "",
        first_name=kid.get("first_name") or "",
        middle_name=kid.get("middle_name") or "",
        birth_date=birth,
        sex=sex if sex in (Sex.MALE, Sex.FEMALE) else "",
        relation=Guardianship.Relation.SON if sex == Sex.MALE else Guardianship.Relation.DAUGHTER,
        policy_series=kid.get("policy_series") or "",
        policy_number=kid.get("policy_number") or "",
    )


def relative_remove(
    *, guardian: Patient, guardianship_id: int, actor: "User", ip: str | None, device: str = ""
) -> Guardianship | None:
    """End one active guardianship of this guardian; the rows stay for history.

    Returns the ended guardianship (None if it is not this guardian's): the view then
    stops acting for that child if the session did.
    """
    with transaction.atomic(durable=True):
        guardianship = (
            Guardianship.objects.select_for_update()
            .select_related("child", "guardian")
            .filter(pk=guardianship_id, guardian=guardian, ended_at__isnull=True)
            .first()
        )
        if guardianship is None:
            audit_record(
                AuditAction.ACCESS_REFUSED,
                actor=actor,
                ip=ip,
                patient=guardian,
                guardianship_id=guardianship_id,
                device=device,
            )
            return None
        guardianship_end(
            guardianship,
            reason=Guardianship.EndReason.REMOVED,
            action=AuditAction.RELATIVE_REMOVED,
            actor=actor,
            ip=ip,
            device=device,
        )
    return guardianship


def guardians_notify_new_guardian(guardianship_id: int) -> None:
    """The operator's log line of a guardian added beside others, after the commit.

    The other guardians are told on «Личные данные» (`selectors.guardian_notices`), where
    a verified guardian approves or revokes the newcomer; no message is sent.
    """
    logger.info("guardianship %s added beside existing guardians", guardianship_id)


def acting_switch(
    *,
    actor: "User",
    own: Patient,
    target: Patient,
    current_id: int | None,
    ip: str | None,
    device: str = "",
) -> int | None:
    """Record a switch of the cabinet to ``target`` (checked by patient_get_for_user).

    ``current_id`` is the child the session acts for now (None: the user's own record).
    Returns the child the session must act for from now on, None for the user's own
    record; the view stores it in the session.
    """
    if target.pk == own.pk:
        if current_id is not None and current_id != own.pk:
            audit_record(
                AuditAction.ACTING_ENDED,
                actor=actor,
                ip=ip,
                patient=own,
                child_id=current_id,
                device=device,
            )
        return None
    audit_record(AuditAction.ACTING_STARTED, actor=actor, ip=ip, patient=target, device=device)
    return target.pk


def patient_access_refused_record(
    *, actor: "User", ip: str | None, patient_id: int, path: str = "", device: str = ""
) -> None:
    """A refused attempt to act for or read a patient, into that patient's journal.

    The event names the patient only if the id exists, so the patient's guardians see
    the attempt in «Кто действовал от моего имени» (the journal does not name who).
    """
    target = Patient.objects.filter(pk=patient_id).first()
    if target is not None and refusal_already_recorded(actor.pk, target.pk):
        return  # one row per prober and patient per hour: a journal cannot be flooded
    audit_record(
        AuditAction.ACCESS_REFUSED,
        actor=actor,
        ip=ip,
        patient=target,
        patient_id=patient_id,
        path=path[:200],
        device=device,
    )


def patient_for_actor(
    *, actor: "User", patient_id: int, ip: str | None, path: str = "", device: str = ""
) -> Patient:
    """``patient_get_for_user``, the refusal written to the target's journal (at most once
    an hour per actor): the pages (`decorators.patient_or_404`) and the API ask this."""
    try:
        return patient_get_for_user(actor, patient_id)
    except Http404:
        patient_access_refused_record(
            actor=actor, ip=ip, patient_id=patient_id, path=path, device=device
        )
        raise


def patient_attach_from_registry(patient: Patient) -> bool:
    """Fill insurer, clinic and area from the registry if the person matches it."""
    if not patient.policy_number:
        return False
    person = registry_person_by_policy(patient.policy_series, patient.policy_number)
    if person is None or not registry_matches(
        person, patient.last_name, patient.first_name, patient.middle_name, patient.birth_date
    ):
        return False
    patient.policy_kind = person.policy_kind
    patient.insurer = person.insurer
    patient.clinic = person.clinic
    patient.area = person.area
    patient.save(update_fields=["policy_kind", "insurer", "clinic", "area", "updated_at"])
    return True


# What a patient record copies from its registry row. Children get their names from
# the registry too (their record was made from it); adults keep ESIA's.
_ATTACHMENT_FIELDS = ("policy_kind", "insurer_id", "clinic_id", "area")
_CHILD_FIELDS = ("last_name", "first_name", "middle_name", "birth_date", "sex")


def patients_refresh_from_registry(persons: list[InsuredPerson]) -> int:
    """Copy insurer, clinic and area of freshly imported registry rows to the patients
    holding those policies; returns how many patient records changed.

    Runs inside the import's transaction, so the registry and its copies never
    disagree (the attachment-only booking rule reads ``Patient.clinic``). An adult is
    refreshed only while the registry row still matches their name and birth date,
    as at login (``patient_attach_from_registry``); a child's record is the registry's.
    """
    by_policy = {(p.policy_series, p.policy_number): p for p in persons}
    if not by_policy:
        return 0
    numbers = {number for _, number in by_policy}
    changed: list[Patient] = []
    for patient in Patient.objects.filter(policy_number__in=numbers):
        person = by_policy.get((patient.policy_series, patient.policy_number))
        if person is None:
            continue
        fields = list(_ATTACHMENT_FIELDS)
        if patient.user_id is None:
            fields += _CHILD_FIELDS
        elif not registry_matches(
            person, patient.last_name, patient.first_name, patient.middle_name, patient.birth_date
        ):
            continue
        if all(getattr(patient, f) == getattr(person, f) for f in fields):
            continue
        for f in fields:
            setattr(patient, f, getattr(person, f))
        patient.updated_at = timezone.now()
        changed.append(patient)
    Patient.objects.bulk_update(
        changed, [*_ATTACHMENT_FIELDS, *_CHILD_FIELDS, "updated_at"], batch_size=500
    )
    return len(changed)


def own_policy_set(
    patient: Patient,
    series: str,
    number: str,
    *,
    actor: "User | None",
    ip: str | None,
    device: str = "",
) -> None:
    """A user whose policy ESIA did not provide enters it; it must match the registry."""
    policy = policy_parse(series, number)
    person = registry_person_by_policy(policy.series, policy.number)
    if person is None or not registry_matches(
        person, patient.last_name, patient.first_name, patient.middle_name, patient.birth_date
    ):
        raise ValidationError({"policy_number": [RELATIVE_ERRORS["own_registry_mismatch"]]})
    taken = (
        Patient.objects.filter(
            policy_series=policy.series, policy_number=policy.number, user__isnull=False
        )
        .exclude(pk=patient.pk)
        .exists()
    )
    if taken:
        raise ValidationError({"policy_number": [RELATIVE_ERRORS["own_policy_taken"]]})
    with transaction.atomic(durable=True):
        patient.policy_series = policy.series
        patient.policy_number = policy.number
        patient.save(update_fields=["policy_series", "policy_number", "updated_at"])
        patient_attach_from_registry(patient)
        audit_record(AuditAction.POLICY_SET, actor=actor, ip=ip, patient=patient, device=device)
