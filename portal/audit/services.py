from typing import TYPE_CHECKING, Any

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
