"""The workspace pages. Every view is `staff_required` and reads through `permissions`."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from portal.core.http import client_ip
from portal.scheduling.errors import BookingRefused
from portal.scheduling.services import absence_record, appointment_mark_attendance
from portal.staff.decorators import StaffRequest, staff_required
from portal.staff.permissions import clinic_scope_for, doctor_get_for_staff, doctors_in_scope
from portal.workspace.forms import AbsenceForm, DayListForm
from portal.workspace.navigation import workspace_next
from portal.workspace.permissions import appointment_get_for_staff
from portal.workspace.refusals import staff_message
from portal.workspace.selectors import absence_preview, absences_in_scope, day_list_appointments


@staff_required
def home(request: StaffRequest) -> HttpResponse:
    return render(request, "workspace/home.html", {"member": request.staff})


@staff_required
def day_list(request: StaffRequest) -> HttpResponse:
    """The whole clinic's day by time, or one doctor's; filters by specialty and cabinet."""
    clinics = clinic_scope_for(request.user).order_by("short_name")
    initial: dict[str, object] = {"date": timezone.localdate()}
    if request.staff.clinic_id is not None:
        initial["clinic"] = request.staff.clinic_id
    data = request.GET if "date" in request.GET else None
    form = DayListForm(data, initial=initial, clinics=clinics)
    doctor = None
    appointments = None
    if form.is_valid():
        chosen = form.cleaned_data
        if chosen["doctor"] is not None:
            doctor = doctor_get_for_staff(request.user, chosen["doctor"].pk)
        appointments = list(
            day_list_appointments(
                chosen["clinic"],
                chosen["date"],
                doctor=doctor,
                specialty=chosen["specialty"],
                room=chosen["room"],
            )
        )
    return render(
        request,
        "workspace/day_list.html",
        {
            "form": form,
            "clinic": form.cleaned_data["clinic"] if form.is_valid() else None,
            "doctor": doctor,
            "day": form.cleaned_data["date"] if form.is_valid() else None,
            "today": timezone.localdate(),
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
        messages.error(request, staff_message(refusal))
    else:
        done = _("отмечено «приём состоялся».") if attended else _("отмечена неявка.")
        messages.success(request, f"{appointment.patient.short_name}: {done}")
    if back := workspace_next(request):
        return redirect(back)
    doctor = appointment.slot.doctor
    query = urlencode(
        {
            "clinic": str(doctor.clinic_id),
            "doctor": str(doctor.pk),
            "date": timezone.localtime(appointment.starts_at).date().isoformat(),
        }
    )
    return redirect(f"{reverse('workspace:day_list')}?{query}#appointment-{appointment.pk}")


@staff_required
def absence_list(request: StaffRequest) -> HttpResponse:
    absences = absences_in_scope(doctors_in_scope(request.user))
    return render(request, "workspace/absence_list.html", {"absences": absences})


@staff_required
def absence_new(request: StaffRequest) -> HttpResponse:
    """Two steps: the form shows what the absence would cancel; «Подтвердить» records it."""
    doctors = doctors_in_scope(request.user).order_by("last_name", "first_name")
    initial = {"doctor": request.GET.get("doctor")}
    posted = request.method == "POST"
    form = AbsenceForm(request.POST if posted else None, initial=initial, doctors=doctors)
    if not posted or not form.is_valid():
        status = 400 if form.errors else 200
        return render(request, "workspace/absence_new.html", {"form": form}, status=status)
    doctor = doctor_get_for_staff(request.user, form.cleaned_data["doctor"].pk)
    starts_on, ends_on = form.cleaned_data["starts_on"], form.cleaned_data["ends_on"]
    if request.POST.get("confirm") != "1":
        preview = absence_preview(doctor, starts_on, ends_on)
        return render(
            request,
            "workspace/absence_new.html",
            {"form": form, "preview": preview, "doctor": doctor},
        )
    try:
        result = absence_record(
            actor=request.user,
            doctor=doctor,
            kind=form.absence_kind,
            starts_on=starts_on,
            ends_on=ends_on,
            reason=form.cleaned_data["reason"],
            ip=client_ip(request),
        )
    except BookingRefused as refusal:
        messages.error(request, staff_message(refusal))
        return render(request, "workspace/absence_new.html", {"form": form}, status=409)
    messages.success(
        request,
        ngettext(
            "Отсутствие записано. Отменена %(count)d запись, пациент получит уведомление; "
            "закрыто свободных интервалов: %(blocked)d.",
            "Отсутствие записано. Отменено записей: %(count)d, пациенты получат уведомления; "
            "закрыто свободных интервалов: %(blocked)d.",
            len(result.cancelled),
        )
        % {"count": len(result.cancelled), "blocked": result.blocked},
    )
    return redirect("workspace:absence_list")
