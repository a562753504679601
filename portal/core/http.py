"""Typed requests and the few facts services need from a request.

Services take plain values (an actor, an IP), never an ``HttpRequest``: views read
them here and pass them on, so the same service serves the workspace, a worker and
the API.
"""

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from portal.identity.models import User
    from portal.patients.models import Patient


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the audit journal and the rate limits record it."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


class AuthenticatedRequest(HttpRequest):
    """A request that passed a login check: ``user`` is a real account."""

    user: "User"


class PatientRequest(AuthenticatedRequest):
    """A request that passed ``patient_required``: the patient it acts for is set."""

    acting_patient: "Patient"
