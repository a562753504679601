"""«Уведомления» in the cabinet and the preferences page."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.core.http import PatientRequest
from portal.notifications.forms import PreferenceForm
from portal.notifications.reminders import reminders_planned
from portal.notifications.selectors import (
    confirmations_with_reminders,
    messages_for_user,
    preference_of,
    sms_number,
)
from portal.notifications.services import messages_seen, preference_save, sms_configured
from portal.patients.decorators import patient_required
from portal.patients.models import Patient
from portal.patients.selectors import patient_of_user


def _own(request: PatientRequest) -> Patient:
    own = patient_of_user(request.user)
    if own is None:  # pragma: no cover - patient_required redirects first
        raise Http404
    return own


@patient_required
def message_list(request: PatientRequest) -> HttpResponse:
    """What was sent (or is planned), when, by which channel, and whether it arrived:
    for the patient and for the children they act for."""
    own = _own(request)
    rows = messages_for_user(request.user)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    # The reminders to come are not rows yet (written when due): the first page lists
    # them on top, where their rows will be.
    planned = reminders_planned(confirmations_with_reminders(rows)) if page.number == 1 else []
    messages_seen(own)
    return render(
        request,
        "notifications/message_list.html",
        {"page": page, "planned": planned, "own": own, "now": timezone.now()},
    )


@require_http_methods(["GET", "POST"])
@patient_required
def preferences(request: PatientRequest) -> HttpResponse:
    own = _own(request)
    current = preference_of(own)
    form = PreferenceForm(
        # Every box unticked is an empty form, still a submitted one.
        request.POST if request.method == "POST" else None,
        initial={
            "email_enabled": current.email_enabled,
            "sms_enabled": current.sms_enabled,
            "reminders_enabled": current.reminders_enabled,
        },
    )
    if request.method == "POST" and form.is_valid():
        preference_save(patient=own, **form.cleaned_data)
        messages.success(request, _("Настройки уведомлений сохранены."))
        return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {
            "form": form,
            "own": own,
            "sms_number": sms_number(own.phone),
            "sms_available": sms_configured(),
        },
    )
