from typing import Any

from django.http import HttpRequest

from portal.audit.models import AuditEvent


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    action: str,
    *,
    request: HttpRequest | None = None,
    user: Any = None,
    patient: Any = None,
    **details: Any,
) -> AuditEvent:
    """Append one event. Details must not contain SNILS, policy numbers or full names."""
    if user is None and request is not None and request.user.is_authenticated:
        user = request.user
    return AuditEvent.objects.create(
        action=action, user=user, patient=patient, details=details, ip=client_ip(request)
    )
