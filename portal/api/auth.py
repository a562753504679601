"""Who is calling the patient-facing API: the bearer token, its audience and its scopes.

Tokens are django-oauth-toolkit's opaque access tokens. Only the Authorization header
is read (never a query parameter or a cookie: no session, so no CSRF). A token must be
bound (RFC 8707 `resource`, or SMART's `aud`) to this FHIR server's base URL.
"""

import hashlib
import uuid
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from oauth2_provider.models import AccessToken

from portal.api.outcomes import api_error
from portal.identity.models import User

# SMART App Launch v2 scopes this server knows, with what each allows.
SCOPES = {
    "patient/Patient.r": "Patient.r",
    "patient/Appointment.rs": "Appointment.rs",
    "patient/Appointment.cu": "Appointment.cu",
    "patient/ServiceRequest.rs": "ServiceRequest.rs",
    # Home visits (docs/home-visits.md): create, read and search in one scope, since an
    # app that calls a doctor home must show the request's state.
    "patient/Task.crs": "Task.crs",
}

# Idempotency keys of API bookings: uuid5(this namespace, "<client_id>:<X-Request-Id>").
REQUEST_ID_NAMESPACE = uuid.UUID("6f1c6c1e-94a2-4c41-9d7e-2a8f1f3b0c15")


@dataclass(frozen=True)
class Caller:
    token: AccessToken
    user: User
    client_id: str
    scopes: frozenset[str]

    def require(self, resource: str, action: str) -> None:
        """``action`` is one SMART letter: c(reate), r(ead), u(pdate), d(elete), s(earch)."""
        for scope in self.scopes:
            kind, _, rest = scope.partition("/")
            name, _, letters = rest.partition(".")
            if kind == "patient" and name == resource and action in letters:
                return
        needed = next(
            (s for s in SCOPES if s.startswith(f"patient/{resource}.") and action in s[-3:]),
            f"patient/{resource}.{action}",
        )
        raise api_error(403, "scope", scope=needed)

    def idempotency_key(self, request_id: str) -> uuid.UUID:
        return uuid.uuid5(REQUEST_ID_NAMESPACE, f"{self.client_id}:{request_id}")


def fhir_base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("fhir:metadata")).rsplit("/", 1)[0]


def caller_from_request(request: HttpRequest) -> Caller:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        raise api_error(401, "token_missing")
    kind, _, value = header.partition(" ")
    value = value.strip()
    if kind.lower() != "bearer" or not value or len(value) > 512:
        raise api_error(401, "token_invalid")
    checksum = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()
    token = (
        AccessToken.objects.select_related("user", "application")
        .filter(token_checksum=checksum)
        .first()
    )
    # A revoked token is deleted by the library; an expired one stays until cleanup.
    if token is None or token.is_expired() or token.user is None or not token.user.is_active:
        raise api_error(401, "token_invalid")
    if token.application is None:
        raise api_error(401, "token_invalid")
    if not token.resource or not token.allows_audience(fhir_base_url(request)):
        raise api_error(401, "token_audience")
    return Caller(
        token=token,
        user=token.user,
        client_id=token.application.client_id,
        scopes=frozenset(token.scope.split()),
    )


def ratelimit_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit key of the API limits: the access token (set by the view wrapper)."""
    caller: Caller | None = getattr(request, "fhir_caller", None)
    return f"token:{caller.token.pk}" if caller else f"ip:{request.META.get('REMOTE_ADDR')}"
