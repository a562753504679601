from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from portal.audit.models import AuditAction, AuditEvent
from portal.core import rows

if TYPE_CHECKING:
    from portal.identity.models import User
    from portal.patients.models import Patient


def audit_record(
    action: AuditAction,
    *,
    actor: "User | None",
    ip: str | None,
    patient: "Patient | None" = None,
    **details: Any,
) -> AuditEvent:
    """Append one event. Details must not contain SNILS, policy numbers or full names.

    ``actor`` is the account that acted (None for the portal itself or an anonymous
    visitor); ``ip`` the address it came from, as ``core.http.client_ip`` reads it.
    """
    user = actor if actor is not None and actor.is_authenticated else None
    # One INSERT without compiling a query (`core.rows`): every booking writes one of these.
    return rows.insert(
        AuditEvent(action=action, user=user, patient=patient, details=details, ip=ip)
    )


class AuditEntry(NamedTuple):
    """One event of `audit_record_many`: the action, the acting account's id (None for the
    portal itself), the patient's id and the details, under `audit_record`'s rules."""

    action: AuditAction
    actor_id: int | None
    patient_id: int | None
    details: dict[str, Any]


def audit_record_many(entries: Iterable[AuditEntry]) -> list[AuditEvent]:
    """Append many events in one statement (a fair-release draw records every request's
    result at once): the same append-only rows `audit_record` writes, without an ip."""
    return AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                action=e.action, user_id=e.actor_id, patient_id=e.patient_id, details=e.details
            )
            for e in entries
        ]
    )
