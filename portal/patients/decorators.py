from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from portal.audit.devices import request_device
from portal.core.http import PatientRequest, client_ip
from portal.core.ratelimits import refusals_limited
from portal.patients.models import Patient
from portal.patients.selectors import acting_patient
from portal.patients.services import patient_for_actor

View = Callable[..., HttpResponse]


def patient_required(view: View) -> View:
    """Only a logged-in citizen with a patient record; sets ``request.acting_patient``.

    Views that act for a patient take it from here, never from a raw id in the URL.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        patient = acting_patient(request) if request.user.is_authenticated else None
        if patient is None:
            return redirect_to_login(request.get_full_path())  # settings.LOGIN_URL
        request.acting_patient = patient  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


def patient_or_404(request: PatientRequest, patient_id: int) -> Patient:
    """``patient_get_for_user``, recording a refusal in the target's journal.

    Refusals are rate limited (docs/security.md): probing ids answers 429 soon.
    """
    with refusals_limited(request):
        return patient_for_actor(
            actor=request.user,
            patient_id=patient_id,
            ip=client_ip(request),
            path=request.path,
            device=request_device(request),
        )
