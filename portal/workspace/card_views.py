"""The patient card (docs/workspace.md, «The patient card»): a caller asks the registry to
cancel, move or make an appointment. Every write goes through the booking service with
the clerk as the actor, so the portal's rules and notifications apply as they do online.

A search is exact, rate limited and journalled as the registry's is
(`RATE_REGISTRY_SEARCH_USER`, `registry.searched`), and finds only persons attached to or
booked at the clerk's clinic; a card of anyone else is a 404.
"""

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.core.http import client_ip
from portal.core.ratelimits import failure_count, failures_limited
from portal.directory.models import Doctor
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Slot
from portal.scheduling.services import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
)
from portal.staff.decorators import StaffRequest, staff_required
from portal.staff.permissions import clinic_scope_for, doctor_get_for_staff
from portal.workspace.card import card_of, card_search, move_free_slots
from portal.workspace.card_forms import MoveDayForm, PatientSearchForm
from portal.workspace.forms import DoctorPickForm
from portal.workspace.permissions import appointment_get_for_staff, patient_get_for_staff
from portal.workspace.refusals import staff_message
from portal.workspace.selectors import phone_free_slots
from portal.workspace.services import patient_search_record

CANCEL_REASON = gettext_lazy("по просьбе пациента")


def form_key(request: StaffRequest) -> uuid.UUID:
    """The booking form's one-time key; a missing or broken one gets a fresh key."""
    try:
        return uuid.UUID(request.POST.get("idempotency_key", ""))
    except ValueError:
        return uuid.uuid4()


def slot_id_of(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


@staff_required
@failures_limited("registry_search_user", methods=("GET",))
def patient_search(request: StaffRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET if request.GET else None)
    patients = None
    if form.is_valid():
        failure_count(request, "registry_search_user", methods=("GET",))
        data = form.cleaned_data
        patients = card_search(
            request.user,
            policy=data["policy"],
            last_name=data["last_name"],
            birth_date=data["birth_date"],
            ticket=data["ticket"],
        )
        patient_search_record(
            actor=request.user,
            ip=client_ip(request),
            by=form.searched_by,
            found=[patient.pk for patient in patients],
        )
    return render(
        request,
        "workspace/patient_search.html",
        {"form": form, "patients": patients},
        status=400 if form.errors else 200,
    )


@staff_required
def patient_card(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = patient_get_for_staff(request.user, patient_id)
    return render(
        request,
        "workspace/patient_card.html",
        {"patient": patient, "card": card_of(request.user, patient), "now": timezone.now()},
    )


def _to_card(patient_id: int) -> HttpResponse:
    return redirect("workspace:patient_card", patient_id=patient_id)


@staff_required
def appointment_cancel_for_patient(request: StaffRequest, appointment_id: int) -> HttpResponse:
    """GET reads the appointment back to the caller; only the POST cancels it."""
    appointment = appointment_get_for_staff(request.user, appointment_id)
    if request.method != "POST":
        return render(
            request,
            "workspace/appointment_cancel.html",
            {"appointment": appointment, "doctor": appointment.slot.doctor},
        )
    try:
        appointment_cancel(
            actor=request.user,
            appointment=appointment,
            ip=client_ip(request),
            reason=str(CANCEL_REASON),
        )
    except BookingRefused as refusal:
        messages.error(request, staff_message(refusal))
    else:
        messages.success(
            request,
            _("Запись %(ticket)s отменена по просьбе пациента; пациент получит уведомление.")
            % {"ticket": appointment.ticket_number},
        )
    return _to_card(appointment.patient_id)


@staff_required
def appointment_move(request: StaffRequest, appointment_id: int) -> HttpResponse:
    """Choose a day, then a time of the same specialty at the clinic; the booking service
    books it and cancels the original in one transaction (the original stays if not)."""
    appointment = appointment_get_for_staff(request.user, appointment_id)
    status = 200
    if request.method == "POST":
        try:
            appointment_reschedule(
                actor=request.user,
                appointment=appointment,
                new_slot_id=slot_id_of(request.POST.get("slot")),
                idempotency_key=form_key(request),
                ip=client_ip(request),
            )
        except BookingRefused as refusal:
            messages.error(request, staff_message(refusal))
            status = 409
        else:
            messages.success(request, _("Запись перенесена; пациент получит уведомление."))
            return _to_card(appointment.patient_id)
    day = timezone.localtime(appointment.starts_at).date()
    form = MoveDayForm(request.GET if "date" in request.GET else None, initial={"date": day})
    if form.is_bound:
        status = 400 if not form.is_valid() else status
    chosen = form.cleaned_data["date"] if form.is_bound and form.is_valid() else day
    return render(
        request,
        "workspace/appointment_move.html",
        {
            "appointment": appointment,
            "form": form,
            "day": chosen,
            "slots": move_free_slots(appointment, chosen),
            "idempotency_key": uuid.uuid4(),
        },
        status=status,
    )


@staff_required
def patient_book(request: StaffRequest, patient_id: int) -> HttpResponse:
    """Book from the card: a doctor, a free time, then the read-back before it books."""
    patient = patient_get_for_staff(request.user, patient_id)
    if request.method == "POST":
        return _patient_book_post(request, patient_id)
    if slot_id := slot_id_of(request.GET.get("slot")):
        slot = get_object_or_404(Slot.objects.select_related("doctor"), pk=slot_id)
        return render(
            request,
            "workspace/booking_confirm.html",
            {
                "patient_name": patient.full_name,
                "birth_date": patient.birth_date,
                "doctor": doctor_get_for_staff(request.user, slot.doctor_id),
                "slot": slot,
                "action": reverse("workspace:patient_book", args=[patient.pk]),
                "back": reverse("workspace:patient_card", args=[patient.pk]),
                "idempotency_key": uuid.uuid4(),
            },
        )
    clinics = clinic_scope_for(request.user).order_by("short_name")
    initial = {"clinic": request.staff.clinic_id} if request.staff.clinic_id else {}
    form = DoctorPickForm(request.GET or None, initial=initial, clinics=clinics)
    doctor: Doctor | None = None
    if form.is_valid() and form.cleaned_data["doctor"] is not None:
        doctor = doctor_get_for_staff(request.user, form.cleaned_data["doctor"].pk)
    return render(
        request,
        "workspace/patient_book.html",
        {
            "patient": patient,
            "form": form,
            "doctor": doctor,
            "slots": phone_free_slots(doctor) if doctor else [],
            "single_clinic": request.staff.clinic_id is not None,
        },
    )


def _patient_book_post(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = patient_get_for_staff(request.user, patient_id)
    slot = get_object_or_404(Slot, pk=slot_id_of(request.POST.get("slot")))
    doctor_get_for_staff(request.user, slot.doctor_id)  # another clinic's: 404
    try:
        result = appointment_book(
            actor=request.user,
            patient=patient,
            slot_id=slot.pk,
            idempotency_key=form_key(request),
            ip=client_ip(request),
        )
    except BookingRefused as refusal:
        messages.error(request, staff_message(refusal))
        return redirect("workspace:patient_book", patient_id=patient.pk)
    messages.success(
        request,
        _("Пациент записан, талон %(ticket)s; пациент получит уведомление.")
        % {"ticket": result.appointment.ticket_number},
    )
    return _to_card(patient.pk)
