"""Thin views of the booking wizard and «Мои записи». Rules live in rules.py/services.py."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from portal.core.dates import day_from_url
from portal.core.http import PatientRequest, client_ip
from portal.core.ratelimits import rate_limited
from portal.directory.selectors import districts_list
from portal.patients.decorators import patient_required
from portal.scheduling import documents, rules, selectors, services
from portal.scheduling.errors import ERRORS, BookingRefused
from portal.scheduling.forms import ATTACHED, BookingConfirmForm, NearestForm

DISTRICTS_PER_PAGE = 12


def _reason(code: str | None) -> str | None:
    return str(ERRORS[code]) if code else None


def _patient_refusal(request: PatientRequest) -> str | None:
    """A refusal that concerns the patient as a whole (a child of 14+)."""
    return _reason(rules.child_refusal(request.acting_patient, request.user.pk))


@require_GET
@patient_required
def booking_start(request: PatientRequest) -> HttpResponse:
    page = Paginator(districts_list(), DISTRICTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "scheduling/booking_start.html",
        {"page": page, "patient_refusal": _patient_refusal(request)},
    )


@require_GET
@patient_required
def booking_district(request: PatientRequest, district_id: int) -> HttpResponse:
    district = selectors.district_get(district_id)
    patient = request.acting_patient
    clinics = [
        (clinic, _reason(rules.clinic_refusal(patient, clinic)))
        for clinic in district.clinics.order_by("short_name")
    ]
    return render(
        request,
        "scheduling/booking_district.html",
        {"district": district, "clinics": clinics, "patient_refusal": _patient_refusal(request)},
    )


@require_GET
@patient_required
def booking_clinic(request: PatientRequest, clinic_id: int) -> HttpResponse:
    clinic = selectors.clinic_get(clinic_id)
    patient = request.acting_patient
    specialties = [
        (specialty, _reason(rules.specialty_refusal(patient, specialty, clinic)))
        for specialty in selectors.specialties_at_clinic(clinic)
    ]
    return render(
        request,
        "scheduling/booking_clinic.html",
        {
            "clinic": clinic,
            "specialties": specialties,
            "clinic_refusal": _reason(rules.clinic_refusal(patient, clinic)),
            "patient_refusal": _patient_refusal(request),
        },
    )


@require_GET
@patient_required
def booking_doctors(request: PatientRequest, clinic_id: int, specialty_id: int) -> HttpResponse:
    clinic = selectors.clinic_get(clinic_id)
    specialty = selectors.specialty_get(specialty_id)
    patient = request.acting_patient
    refusal = _reason(
        rules.clinic_refusal(patient, clinic) or rules.specialty_refusal(patient, specialty, clinic)
    )
    return render(
        request,
        "scheduling/booking_doctors.html",
        {
            "clinic": clinic,
            "specialty": specialty,
            "doctors": selectors.doctors_with_nearest(clinic, specialty),
            "refusal": refusal or _patient_refusal(request),
        },
    )


def _doctor_refusal(request: PatientRequest, doctor) -> str | None:
    patient = request.acting_patient
    return _reason(
        rules.child_refusal(patient, request.user.pk)
        or rules.clinic_refusal(patient, doctor.clinic)
        or rules.specialty_refusal(patient, doctor.specialty, doctor.clinic)
    )


@require_GET
@patient_required
def booking_days(request: PatientRequest, doctor_id: int) -> HttpResponse:
    doctor = selectors.doctor_get(doctor_id)
    return render(
        request,
        "scheduling/booking_days.html",
        {
            "doctor": doctor,
            "days": selectors.free_days(doctor),
            "refusal": _doctor_refusal(request, doctor),
        },
    )


@require_GET
@patient_required
def booking_times(request: PatientRequest, doctor_id: int, day: str) -> HttpResponse:
    doctor = selectors.doctor_get(doctor_id)
    chosen = day_from_url(day)
    if chosen is None:
        raise Http404
    return render(
        request,
        "scheduling/booking_times.html",
        {
            "doctor": doctor,
            "day": chosen,
            "slots": selectors.free_slots_on(doctor, chosen),
            "refusal": _doctor_refusal(request, doctor),
        },
    )


@require_http_methods(["GET", "POST"])
@patient_required
@rate_limited("booking_user", "booking_ip")
def booking_confirm(request: PatientRequest, slot_id: int) -> HttpResponse:
    slot = selectors.slot_get_for_booking(slot_id)
    patient = request.acting_patient
    form = BookingConfirmForm.fresh()
    error = None
    status = 200
    if request.method == "POST":
        form = BookingConfirmForm(request.POST)
        if form.is_valid():
            try:
                result = services.appointment_book(
                    actor=request.user,
                    patient=patient,
                    slot_id=slot.pk,
                    idempotency_key=form.cleaned_data["key"],
                    ip=client_ip(request),
                )
            except BookingRefused as refused:
                error, status = refused.message, 409
                form = BookingConfirmForm.fresh()
            else:
                if result.created:
                    messages.success(request, _("Вы записаны на приём. Талон ниже."))
                return redirect("appointment_ticket", appointment_id=result.appointment.pk)
        else:
            status = 400
    elif refusal := (
        _reason(rules.slot_refusal(slot, timezone.now())) or _doctor_refusal(request, slot.doctor)
    ):
        error = refusal
    return render(
        request,
        "scheduling/booking_confirm.html",
        {"slot": slot, "doctor": slot.doctor, "patient": patient, "form": form, "error": error},
        status=status,
    )


@require_GET
@patient_required
def booking_nearest(request: PatientRequest) -> HttpResponse:
    patient = request.acting_patient
    form = NearestForm(request.GET or None)
    slots = None
    refusal = None
    if form.is_bound and not form.is_valid():
        form.describe_errors()
    if form.is_bound and form.is_valid():
        specialty = form.cleaned_data["specialty"]
        place = form.cleaned_data["place"]
        at_attached = place == ATTACHED or specialty.access == specialty.Access.ATTACHMENT
        if at_attached and patient.clinic is None:
            refusal = _reason("no_attachment")
        elif at_attached:
            refusal = _reason(rules.specialty_refusal(patient, specialty, patient.clinic))
            slots = selectors.slots_nearest_free(specialty, clinic=patient.clinic)
        else:
            refusal = _reason(rules.specialty_refusal(patient, specialty, patient.clinic))
            district = selectors.district_get(int(place))
            slots = selectors.slots_nearest_free(specialty, district=district)
        refusal = refusal or _patient_refusal(request)
    return render(
        request,
        "scheduling/booking_nearest.html",
        {"form": form, "slots": slots, "refusal": refusal},
    )


@require_GET
@patient_required
def appointment_list(request: PatientRequest) -> HttpResponse:
    upcoming, history = selectors.appointments_for_user(request.user)
    return render(
        request, "scheduling/appointment_list.html", {"upcoming": upcoming, "history": history}
    )


@require_GET
@patient_required
def appointment_ticket(request: PatientRequest, appointment_id: int) -> HttpResponse:
    appointment = selectors.appointment_get_for_user(request.user, appointment_id)
    return render(
        request,
        "scheduling/appointment_ticket.html",
        {"appointment": appointment, "qr_svg": documents.ticket_qr_svg(appointment)},
    )


@require_http_methods(["GET", "POST"])
@patient_required
@rate_limited("cancel_user", "cancel_ip")
def appointment_cancel_view(request: PatientRequest, appointment_id: int) -> HttpResponse:
    appointment = selectors.appointment_get_for_user(request.user, appointment_id)
    error = None
    if request.method == "POST":
        try:
            services.appointment_cancel(
                actor=request.user, appointment=appointment, ip=client_ip(request)
            )
        except BookingRefused as refused:
            error = refused.message
        else:
            messages.success(request, _("Запись отменена. Это время снова доступно для записи."))
            return redirect("appointment_list")
    return render(
        request,
        "scheduling/appointment_cancel.html",
        {"appointment": appointment, "error": error},
        status=409 if error else 200,
    )


@require_GET
@patient_required
def appointment_ics(request: PatientRequest, appointment_id: int) -> HttpResponse:
    appointment = selectors.appointment_get_for_user(request.user, appointment_id)
    response = HttpResponse(documents.ticket_ics(appointment), content_type="text/calendar")
    response["Content-Disposition"] = (
        f'attachment; filename="talon-{appointment.ticket_number}.ics"'
    )
    return response
