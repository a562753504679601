"""Booking by phone: the clerk finds the caller in the registry and books for them under
the portal's rules (`appointment_book` with the clerk as the actor)."""

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from portal.core.http import client_ip
from portal.patients.models import InsuredPerson
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Slot
from portal.scheduling.services import appointment_book
from portal.staff.decorators import StaffRequest, staff_required
from portal.staff.permissions import clinic_scope_for, doctor_get_for_staff
from portal.workspace.forms import DoctorPickForm, RegistrySearchForm
from portal.workspace.selectors import phone_free_slots, registry_search
from portal.workspace.services import patient_from_registry_for_phone


@staff_required
def phone_search(request: StaffRequest) -> HttpResponse:
    form = RegistrySearchForm(request.GET if request.GET else None)
    persons = None
    if form.is_valid():
        persons = registry_search(
            policy=form.cleaned_data["policy"],
            last_name=form.cleaned_data["last_name"],
            first_name=form.cleaned_data["first_name"],
            birth_date=form.cleaned_data["birth_date"],
        )
    status = 400 if form.errors else 200
    return render(
        request, "workspace/phone_search.html", {"form": form, "persons": persons}, status=status
    )


@staff_required
def phone_person(request: StaffRequest, person_id: int) -> HttpResponse:
    person = get_object_or_404(InsuredPerson.objects.select_related("clinic"), pk=person_id)
    clinics = clinic_scope_for(request.user).order_by("short_name")
    initial = {"clinic": request.staff.clinic_id} if request.staff.clinic_id else {}
    form = DoctorPickForm(request.GET or None, initial=initial, clinics=clinics)
    doctor = None
    slots: list[Slot] = []
    if form.is_valid() and form.cleaned_data["doctor"] is not None:
        doctor = doctor_get_for_staff(request.user, form.cleaned_data["doctor"].pk)
        slots = phone_free_slots(doctor)
    return render(
        request,
        "workspace/phone_person.html",
        {
            "person": person,
            "form": form,
            "doctor": doctor,
            "slots": slots,
            "single_clinic": request.staff.clinic_id is not None,
            "idempotency_key": uuid.uuid4(),
        },
    )


@require_POST
@staff_required
def phone_book(request: StaffRequest, person_id: int) -> HttpResponse:
    person = get_object_or_404(InsuredPerson, pk=person_id)
    slot = get_object_or_404(Slot, pk=_int(request.POST.get("slot")))
    doctor = doctor_get_for_staff(request.user, slot.doctor_id)  # another clinic's: 404
    try:
        key = uuid.UUID(request.POST.get("idempotency_key", ""))
    except ValueError:
        key = uuid.uuid4()
    patient = patient_from_registry_for_phone(person)
    try:
        result = appointment_book(
            actor=request.user,
            patient=patient,
            slot_id=slot.pk,
            idempotency_key=key,
            ip=client_ip(request),
        )
    except BookingRefused as refusal:
        messages.error(request, refusal.message)
        query = urlencode({"clinic": str(doctor.clinic_id), "doctor": str(doctor.pk)})
        url = reverse("workspace:phone_person", args=[person.pk])
        return redirect(f"{url}?{query}")
    return render(
        request,
        "workspace/phone_booked.html",
        {"appointment": result.appointment, "doctor": doctor, "person": person},
    )


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0
