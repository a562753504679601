from typing import Any

from django.http import HttpRequest

from portal.patients.selectors import acting_patient, children_of, patient_of_user


def acting(request: HttpRequest) -> dict[str, Any]:
    """Whose cabinet this is, for the header menu and the banner on every page."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    own = patient_of_user(request.user)
    if own is None:
        return {}
    return {
        "own_patient": own,
        "acting_patient": acting_patient(request),
        "children": list(children_of(own)),
    }
