"""«Лист ожидания» and «Предложения времени» in the cabinet. Thin: rules live in
services.py, reads in selectors.py (docs/waitlist.md)."""

import datetime

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.audit.devices import request_device
from portal.core.dates import day_from_url
from portal.core.http import PatientRequest, client_ip
from portal.core.ratelimits import rate_limited
from portal.patients.decorators import patient_required
from portal.waitlist import selectors, services
from portal.waitlist.errors import WaitlistRefused
from portal.waitlist.forms import JoinForm, PlaceForm


@require_GET
@patient_required
def entry_list(request: PatientRequest) -> HttpResponse:
    return render(
        request,
        "waitlist/entry_list.html",
        {
            "entries": selectors.entries_list_for_user(request.user),
            "offers_live": selectors.offers_live_count_for_user(request.user),
        },
    )


def _until_initial(request: PatientRequest) -> dict[str, datetime.date]:
    """«Встать в лист ожидания по направлению» (docs/referrals.md) links here with the
    referral's last day as ``until``: the date range then ends on it. Only a proposal:
    the form is checked as ever, and a bad value is ignored."""
    until = day_from_url(request.GET.get("until", ""))
    return {"date_to": until} if until is not None else {}


@require_http_methods(["GET", "POST"])
@patient_required
def entry_join_view(request: PatientRequest) -> HttpResponse:
    """Step 1 (GET, no place yet): clinic and specialty. Step 2: doctor, dates, times."""
    place = PlaceForm(request.GET if "clinic" in request.GET else None)
    if not place.is_bound or not place.is_valid():
        return render(
            request,
            "waitlist/entry_join_place.html",
            {"place": place},
            status=400 if place.is_bound else 200,
        )
    clinic, specialty = place.cleaned_data["clinic"], place.cleaned_data["specialty"]
    patient = request.acting_patient
    form = JoinForm(
        request.POST if request.method == "POST" else None,
        clinic=clinic,
        specialty=specialty,
        initial=_until_initial(request),
    )
    error = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                entry = services.entry_join(
                    actor=request.user,
                    patient=patient,
                    clinic_id=clinic.pk,
                    specialty_id=specialty.pk,
                    doctor_id=data["doctor"],
                    date_from=data["date_from"],
                    date_to=data["date_to"],
                    times=",".join(data["times"]),
                    ip=client_ip(request),
                )
            except WaitlistRefused as refused:
                error, status = refused.message, 409
            else:
                ahead = selectors.entry_ahead_count(entry)
                messages.success(
                    request,
                    _("Пациент поставлен в лист ожидания. Место в очереди: %(place)s.")
                    % {"place": ahead + 1},
                )
                return redirect("waitlist:entry_list")
        else:
            form.describe_errors()
            status = 400
    else:
        # Say before the form is filled in what the booking rules would refuse.
        code = services.entry_join_refusal(
            actor_id=request.user.pk,
            patient=patient,
            clinic=clinic,
            specialty=specialty,
            doctor=None,
            date_from=timezone.localdate(),
            date_to=timezone.localdate(),
        )
        error = WaitlistRefused(code).message if code else None
    return render(
        request,
        "waitlist/entry_join.html",
        {"form": form, "clinic": clinic, "specialty": specialty, "error": error},
        status=status,
    )


@require_POST
@patient_required
def entry_leave_view(request: PatientRequest, entry_id: int) -> HttpResponse:
    entry = selectors.entry_get_for_user(request.user, entry_id)
    try:
        services.entry_leave(actor=request.user, entry=entry, ip=client_ip(request))
    except WaitlistRefused as refused:
        messages.info(request, refused.message)
    else:
        messages.success(request, _("Пациент больше не стоит в листе ожидания."))
    return redirect("waitlist:entry_list")


@require_GET
@patient_required
def offer_list(request: PatientRequest) -> HttpResponse:
    live, others = selectors.offers_list_for_user(request.user)
    return render(
        request,
        "waitlist/offer_list.html",
        {"live": live, "others": others, "now": timezone.now()},
    )


@require_POST
@patient_required
@rate_limited("booking_user", "booking_ip")
def offer_take_view(request: PatientRequest, offer_id: int) -> HttpResponse:
    offer = selectors.offer_get_for_user(request.user, offer_id)
    try:
        appointment = services.offer_take(
            actor=request.user, offer=offer, ip=client_ip(request), device=request_device(request)
        )
    except WaitlistRefused as refused:
        messages.error(request, refused.message)
        return redirect("waitlist:offer_list")
    messages.success(request, _("Вы записаны на приём. Талон ниже."))
    return redirect("scheduling:appointment_ticket", appointment_id=appointment.pk)


@require_POST
@patient_required
def offer_decline_view(request: PatientRequest, offer_id: int) -> HttpResponse:
    offer = selectors.offer_get_for_user(request.user, offer_id)
    try:
        offer = services.offer_decline(actor=request.user, offer=offer, ip=client_ip(request))
    except WaitlistRefused as refused:
        messages.info(request, refused.message)
    else:
        if offer.status == offer.Status.EXPIRED:
            messages.info(request, _("Срок предложения уже истёк: время передано другим."))
        else:
            messages.success(request, _("Вы отказались от предложенного времени."))
    return redirect("waitlist:offer_list")
