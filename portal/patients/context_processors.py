from typing import Any

from django.conf import settings
from django.http import HttpRequest

from portal.patients.selectors import (
    acting_patient,
    children_acted_for,
    own_patient,
    patient_booking_refusal,
)


def acting(request: HttpRequest) -> dict[str, Any]:
    """Whose cabinet this is, for the header menu and the banner on every page."""
    # Every page, logged in or not, states the age limits with these numbers: until
    # CHILD_MAX_AGE parents book for a child, from ESIA_MIN_AGE Gosuslugi registers anyone.
    context: dict[str, Any] = {
        "CHILD_MAX_AGE": settings.CHILD_MAX_AGE,
        "ESIA_MIN_AGE": settings.ESIA_MIN_AGE,
    }
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return context
    own = own_patient(request)
    if own is None:
        return context
    current = acting_patient(request)
    children = children_acted_for(request.user, own)
    return {
        **context,
        "own_patient": own,
        "acting_patient": current,
        "children": children,
        # Everything the account menu shows (core/_account.html keeps its rendering).
        "account_key": (
            own.pk,
            own.last_name,
            own.short_name,
            current.pk if current is not None else None,
            [(child.pk, child.short_name) for child in children],
        ),
        # The booking service's own rule and text (patients.rules.child_refusal).
        "booking_refusal": patient_booking_refusal(own, current),
    }
