"""The workspace pages. Every view is `staff_required` and reads through `permissions`."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.core.http import client_ip
from portal.scheduling.errors import BookingRefused
from portal.scheduling.services import appointment_mark_attendance
from portal.workspace.decorators import StaffRequest, staff_required
from portal.workspace.forms import DayListForm
from portal.workspace.permissions import (
    appointment_get_for_staff,
    clinic_scope_for,
    doctor_get_for_staff,
)
from portal.workspace.selectors import day_list_appointments


@staff_required
def home(request: StaffRequest) -> HttpResponse:
    return render(request, "workspace/home.html", {"member": request.staff})


@staff_required
def day_list(request: StaffRequest) -> HttpResponse:
    clinics = clinic_scope_for(request.user).order_by("short_name")
    initial: dict[str, object] = {"date": timezone.localdate()}
    if request.staff.clinic_id is not None:
        initial["clinic"] = request.staff.clinic_id
    data = request.GET if "date" in request.GET else None
    form = DayListForm(data, initial=initial, clinics=clinics)
    doctor = None
    appointments = None
    if form.is_valid() and form.cleaned_data["doctor"] is not None:
        doctor = doctor_get_for_staff(request.user, form.cleaned_data["doctor"].pk)
        appointments = list(day_list_appointments(doctor, form.cleaned_data["date"]))
    return render(
        request,
        "workspace/day_list.html",
        {
            "form": form,
            "doctor": doctor,
            "day": form.cleaned_data["date"] if form.is_valid() else None,
            "appointments": appointments,
            "now": timezone.now(),
            "single_clinic": request.staff.clinic_id is not None,
        },
        status=400 if form.errors else 200,
    )


@require_POST
@staff_required
def appointment_attendance(request: StaffRequest, appointment_id: int) -> HttpResponse:
    appointment = appointment_get_for_staff(request.user, appointment_id)
    attended = request.POST.get("attended") == "1"
    try:
        appointment_mark_attendance(
            actor=request.user, appointment=appointment, attended=attended, ip=client_ip(request)
        )
    except BookingRefused as refusal:
        messages.error(request, refusal.message)
    else:
        done = _("отмечено «приём состоялся».") if attended else _("отмечена неявка.")
        messages.success(request, f"{appointment.patient.short_name}: {done}")
    doctor = appointment.slot.doctor
    query = urlencode(
        {
            "clinic": str(doctor.clinic_id),
            "doctor": str(doctor.pk),
            "date": timezone.localtime(appointment.starts_at).date().isoformat(),
        }
    )
    return redirect(f"{reverse('workspace:day_list')}?{query}#appointment-{appointment.pk}")
