"""Trust in a guardianship: verified from ESIA, by the child's clinic or by a verified
guardian, and revoked by one (docs/domain.md, «Relatives»).

Until a guardianship is verified its guardian sees and changes only what they did
themselves; the one rule that reads this is ``selectors.actable_by``. Adding and
removing a relative are in ``services``.
"""

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from portal.audit.models import AuditAction
from portal.patients.errors import GuardianshipRefused
from portal.patients.esia_kids import ChildFacts, listed_in_esia_kids
from portal.patients.models import Guardianship, Patient
from portal.patients.services import guardianship_end, guardianship_event_record
from portal.staff.permissions import staff_may_confirm_guardianship

if TYPE_CHECKING:
    from portal.identity.models import User


def _guardianship_locked(guardianship_id: int) -> Guardianship | None:
    return (
        Guardianship.objects.select_for_update()
        .select_related("child", "guardian")
        .filter(pk=guardianship_id, ended_at__isnull=True)
        .first()
    )


def _verify(
    guardianship: Guardianship,
    *,
    how: str,
    actor: "User",
    action: AuditAction,
    ip: str | None,
    device: str,
) -> None:
    guardianship.verified_at = timezone.now()
    guardianship.verified_how = how
    guardianship.verified_by = actor
    guardianship.save(update_fields=["verified_at", "verified_how", "verified_by"])
    guardianship_event_record(action, guardianship, actor=actor, ip=ip, device=device)


def guardianships_verify_from_esia(guardian: Patient, *, ip: str | None = None) -> int:
    """At login: a manual guardianship of a child ESIA now lists for this guardian
    becomes verified (the same source that verifies a one-click addition)."""
    pending = Guardianship.objects.filter(
        guardian=guardian, ended_at__isnull=True, verified_at__isnull=True
    ).select_related("child")
    verified = 0
    for guardianship in pending:
        child = guardianship.child
        if not listed_in_esia_kids(guardian, ChildFacts.of_patient(child)):
            continue
        guardianship.verified_at = timezone.now()
        guardianship.verified_how = Guardianship.Verification.ESIA
        guardianship.save(update_fields=["verified_at", "verified_how"])
        verified += 1
    return verified


def guardianship_confirm(
    *, actor: "User", guardianship_id: int, ip: str | None, device: str = ""
) -> Guardianship:
    """A clerk or head of the child's clinic (or the region's administrator) confirms a
    manual guardianship after seeing the documents. Idempotent for a verified one.

    Raises PermissionDenied for anyone else, Guardianship.DoesNotExist if it has ended.
    """
    with transaction.atomic(durable=True):
        guardianship = _guardianship_locked(guardianship_id)
        if guardianship is None:
            raise Guardianship.DoesNotExist
        # Who may: workspace.permissions decides (the child's clinic, docs/workspace.md).
        allowed = actor.is_superuser and actor.is_staff
        if not (allowed or staff_may_confirm_guardianship(actor, guardianship.child.clinic_id)):
            raise PermissionDenied("only the child's clinic confirms a guardianship")
        if not guardianship.is_verified:
            _verify(
                guardianship,
                how=Guardianship.Verification.CLINIC,
                actor=actor,
                action=AuditAction.GUARDIANSHIP_CONFIRMED,
                ip=ip,
                device=device,
            )
    return guardianship


def _co_guardian_check(actor: "User", guardianship: Guardianship) -> None:
    """The actor holds the same child under a verified guardianship, and the target is
    someone else's unverified one."""
    if guardianship.is_verified or guardianship.guardian.user_id == actor.pk:
        raise GuardianshipRefused
    holds = Guardianship.objects.filter(
        child_id=guardianship.child_id,
        guardian__user=actor,
        ended_at__isnull=True,
        verified_at__isnull=False,
    ).exists()
    if not holds:
        raise GuardianshipRefused


def guardianship_approve(
    *, actor: "User", guardianship_id: int, ip: str | None, device: str = ""
) -> Guardianship:
    """A verified guardian vouches for a newcomer to the same child."""
    with transaction.atomic(durable=True):
        guardianship = _guardianship_locked(guardianship_id)
        if guardianship is None:
            raise GuardianshipRefused
        _co_guardian_check(actor, guardianship)
        _verify(
            guardianship,
            how=Guardianship.Verification.GUARDIAN,
            actor=actor,
            action=AuditAction.GUARDIANSHIP_APPROVED,
            ip=ip,
            device=device,
        )
    return guardianship


def guardianship_revoke(
    *, actor: "User", guardianship_id: int, ip: str | None, device: str = ""
) -> Guardianship:
    """A verified guardian ends a newcomer's unverified access to the same child.

    The newcomer's next request falls back to their own cabinet (acting_patient
    re-checks every request).
    """
    with transaction.atomic(durable=True):
        guardianship = _guardianship_locked(guardianship_id)
        if guardianship is None:
            raise GuardianshipRefused
        _co_guardian_check(actor, guardianship)
        guardianship_end(
            guardianship,
            reason=Guardianship.EndReason.REVOKED,
            action=AuditAction.GUARDIANSHIP_REVOKED,
            actor=actor,
            ip=ip,
            device=device,
        )
    return guardianship
