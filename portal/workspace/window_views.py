"""The registry window (docs/workspace.md, «The window»): one field for a ticket typed on
either keyboard layout or read by a scanner, the appointment it opens, and «Пришёл»."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.core.http import client_ip
from portal.scheduling.errors import BookingRefused
from portal.scheduling.services import appointment_mark_arrived
from portal.staff.decorators import StaffRequest, staff_required
from portal.workspace.card import tickets_find_for_staff
from portal.workspace.card_forms import TicketForm
from portal.workspace.navigation import workspace_next
from portal.workspace.permissions import appointment_get_for_staff
from portal.workspace.refusals import staff_message


@staff_required
def window(request: StaffRequest) -> HttpResponse:
    form = TicketForm(request.GET if "code" in request.GET else None)
    found = None
    if form.is_valid():
        found = tickets_find_for_staff(request.user, form.cleaned_data["code"])
        if len(found) == 1:
            return redirect("workspace:appointment_detail", appointment_id=found[0].pk)
    return render(
        request,
        "workspace/window.html",
        {"form": form, "found": found},
        status=400 if form.errors else 200,
    )


@staff_required
def ticket(request: StaffRequest, code: str) -> HttpResponse:
    """The address the ticket's QR code holds: a phone's camera or a scanner opens it."""
    found = tickets_find_for_staff(request.user, code)
    if len(found) != 1:
        raise Http404
    return redirect("workspace:appointment_detail", appointment_id=found[0].pk)


@staff_required
def appointment_detail(request: StaffRequest, appointment_id: int) -> HttpResponse:
    appointment = appointment_get_for_staff(request.user, appointment_id)
    now = timezone.now()
    return render(
        request,
        "workspace/appointment_detail.html",
        {
            "appointment": appointment,
            "doctor": appointment.slot.doctor,
            "form": TicketForm(),
            "today": timezone.localtime(appointment.starts_at).date() == timezone.localdate(),
            "started": appointment.starts_at <= now,
        },
    )


@require_POST
@staff_required
def appointment_arrived(request: StaffRequest, appointment_id: int) -> HttpResponse:
    appointment = appointment_get_for_staff(request.user, appointment_id)
    try:
        appointment_mark_arrived(actor=request.user, appointment=appointment, ip=client_ip(request))
    except BookingRefused as refusal:
        messages.error(request, staff_message(refusal))
    else:
        messages.success(
            request, _("%(name)s: отмечен приход.") % {"name": appointment.patient.short_name}
        )
    return redirect(workspace_next(request) or appointment_detail_url(appointment.pk))


def appointment_detail_url(appointment_id: int) -> str:
    return reverse("workspace:appointment_detail", args=[appointment_id])
