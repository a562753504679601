from typing import Any

from django.conf import settings
from django.http import HttpRequest

from portal.patients.selectors import (
    acting_patient,
    children_of,
    own_patient,
    patient_booking_refusal,
)


def acting(request: HttpRequest) -> dict[str, Any]:
    """Whose cabinet this is, for the header menu and the banner on every page."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    own = own_patient(request)
    if own is None:
        return {}
    current = acting_patient(request)
    return {
        "own_patient": own,
        "acting_patient": current,
        "children": list(children_of(own)),
        # Shown in the cabinet; the booking service enforces the same rule
        # (scheduling.rules.child_refusal → patients.selectors.is_over_child_age).
        "booking_refusal": patient_booking_refusal(own, current),
        "CHILD_MAX_AGE": settings.CHILD_MAX_AGE,
    }
