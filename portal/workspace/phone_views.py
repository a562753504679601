"""Booking by phone: the clerk finds the caller in the registry and books for them under
the portal's rules (`appointment_book` with the clerk as the actor).

The registry holds the whole region's names and birth dates, so a clerk sees what the
call needs and no more (docs/security.md): a search is exact, rate limited and written
to the journal, and a person's page opens only for someone this session's searches found
— walking the ids is a 404.
"""

import uuid

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from portal.core.http import client_ip
from portal.core.ratelimits import failure_count, failures_limited
from portal.patients.models import InsuredPerson
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Slot
from portal.staff.decorators import StaffRequest, staff_required
from portal.staff.permissions import clinic_scope_for, doctor_get_for_staff
from portal.workspace.forms import DoctorPickForm, RegistrySearchForm
from portal.workspace.refusals import staff_message
from portal.workspace.selectors import phone_free_slots, registry_search
from portal.workspace.services import phone_appointment_book, registry_search_record

FOUND_SESSION_KEY = "phone_found"
FOUND_KEPT = 50  # the persons of the latest searches a clerk may open


@staff_required
@failures_limited("registry_search_user", methods=("GET",))
def phone_search(request: StaffRequest) -> HttpResponse:
    form = RegistrySearchForm(request.GET if request.GET else None)
    persons = None
    if form.is_valid():
        failure_count(request, "registry_search_user", methods=("GET",))
        persons = registry_search(
            policy=form.cleaned_data["policy"],
            last_name=form.cleaned_data["last_name"],
            first_name=form.cleaned_data["first_name"],
            birth_date=form.cleaned_data["birth_date"],
        )
        registry_search_record(
            actor=request.user,
            ip=client_ip(request),
            by="policy" if form.cleaned_data["policy"] else "name",
            found=[person.pk for person in persons],
        )
        _found_remember(request, [person.pk for person in persons])
    status = 400 if form.errors else 200
    return render(
        request, "workspace/phone_search.html", {"form": form, "persons": persons}, status=status
    )


def _found_remember(request: StaffRequest, person_ids: list[int]) -> None:
    kept = [pk for pk in request.session.get(FOUND_SESSION_KEY, []) if pk not in person_ids]
    request.session[FOUND_SESSION_KEY] = (kept + person_ids)[-FOUND_KEPT:]


def _found_person(request: StaffRequest, person_id: int) -> InsuredPerson:
    """A person this session's searches found; anyone else is a 404."""
    if person_id not in request.session.get(FOUND_SESSION_KEY, []):
        raise Http404
    return get_object_or_404(InsuredPerson.objects.select_related("clinic"), pk=person_id)


@staff_required
def phone_person(request: StaffRequest, person_id: int) -> HttpResponse:
    person = _found_person(request, person_id)
    if slot_id := _int(request.GET.get("slot")):
        return _phone_confirm(request, person, slot_id)
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


def _phone_confirm(request: StaffRequest, person: InsuredPerson, slot_id: int) -> HttpResponse:
    """The read-back: patient, doctor and time said aloud before anything is booked."""
    slot = get_object_or_404(Slot, pk=slot_id)
    doctor = doctor_get_for_staff(request.user, slot.doctor_id)  # another clinic's: 404
    query = urlencode({"clinic": str(doctor.clinic_id), "doctor": str(doctor.pk)})
    back = reverse("workspace:phone_person", args=[person.pk])
    return render(
        request,
        "workspace/booking_confirm.html",
        {
            "patient_name": f"{person.last_name} {person.first_name} {person.middle_name}".strip(),
            "birth_date": person.birth_date,
            "doctor": doctor,
            "slot": slot,
            "action": reverse("workspace:phone_book", args=[person.pk]),
            "back": f"{back}?{query}",
            "idempotency_key": uuid.uuid4(),
        },
    )


@require_POST
@staff_required
def phone_book(request: StaffRequest, person_id: int) -> HttpResponse:
    person = _found_person(request, person_id)
    slot = get_object_or_404(Slot, pk=_int(request.POST.get("slot")))
    doctor = doctor_get_for_staff(request.user, slot.doctor_id)  # another clinic's: 404
    try:
        key = uuid.UUID(request.POST.get("idempotency_key", ""))
    except ValueError:
        key = uuid.uuid4()
    try:
        result = phone_appointment_book(
            actor=request.user,
            person=person,
            slot_id=slot.pk,
            idempotency_key=key,
            ip=client_ip(request),
        )
    except BookingRefused as refusal:
        messages.error(request, staff_message(refusal))
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
