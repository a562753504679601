"""«Перенести» to any date: the doctor (this one or a colleague of the specialty) → the
date → the time, as in the booking wizard. The move itself is the confirm page of
`views.appointment_reschedule_confirm` (the booking service's move: the original is kept
until the new time is booked)."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from portal.core.dates import day_from_url
from portal.core.http import PatientRequest
from portal.patients.decorators import patient_required
from portal.scheduling import move_selectors, rules, selectors
from portal.scheduling.errors import refusal_text
from portal.scheduling.models import Appointment


def _movable(request: PatientRequest, appointment_id: int) -> tuple[Appointment, str | None]:
    appointment = selectors.appointment_get_for_user(request.user, appointment_id)
    code = rules.move_refusal(appointment, timezone.now())
    return appointment, refusal_text(code) if code else None


@require_GET
@patient_required
def move_days(request: PatientRequest, appointment_id: int, doctor_id: int) -> HttpResponse:
    """Step 2 of a move: the doctor's dates with a free time, each with how many."""
    appointment, refusal = _movable(request, appointment_id)
    doctor = move_selectors.move_doctor_get(appointment, doctor_id)
    return render(
        request,
        "scheduling/appointment_move_days.html",
        {
            "appointment": appointment,
            "doctor": doctor,
            "refusal": refusal,
            "days": [] if refusal else move_selectors.move_days(appointment, doctor),
        },
        status=409 if refusal else 200,
    )


@require_GET
@patient_required
def move_times(
    request: PatientRequest, appointment_id: int, doctor_id: int, day: str
) -> HttpResponse:
    """Step 3: the doctor's free times on the chosen date; each leads to the confirm page."""
    chosen = day_from_url(day)
    if chosen is None:
        raise Http404
    appointment, refusal = _movable(request, appointment_id)
    doctor = move_selectors.move_doctor_get(appointment, doctor_id)
    return render(
        request,
        "scheduling/appointment_move_times.html",
        {
            "appointment": appointment,
            "doctor": doctor,
            "day": chosen,
            "refusal": refusal,
            "slots": [] if refusal else move_selectors.move_times(appointment, doctor, chosen),
        },
        status=409 if refusal else 200,
    )
