"""The patient's pages of «Запись при открытии дня»: thin, over selectors and services."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.core.http import PatientRequest, client_ip
from portal.patients.decorators import patient_required
from portal.release import selectors, services
from portal.release.errors import ReleaseRefused, refusal_text
from portal.release.forms import RequestForm
from portal.release.models import BallotRequest
from portal.scheduling import rules
from portal.scheduling import selectors as scheduling_selectors


@require_GET
@patient_required
def home(request: PatientRequest) -> HttpResponse:
    patient = request.acting_patient
    active = scheduling_selectors.appointments_list_active(patient)
    ballots = [
        (
            ballot,
            rules.booking_refusal(
                patient,
                request.user.pk,
                clinic=ballot.clinic,
                specialty=ballot.specialty,
                active=active,
            ),
        )
        for ballot in selectors.ballots_collecting().order_by("opens_at", "clinic__short_name")[
            :100
        ]
    ]
    return render(
        request,
        "release/home.html",
        {
            "ballots": [(b, refusal_text(code) if code else None) for b, code in ballots],
            "requests": list(selectors.requests_of_patient(patient, request.user)[:50]),
        },
    )


@require_http_methods(["GET", "POST"])
@patient_required
def request_new(request: PatientRequest, ballot_id: int) -> HttpResponse:
    ballot = selectors.ballot_get_collecting(ballot_id)
    patient = request.acting_patient
    existing = selectors.request_pending_in(ballot, patient, request.user)
    if existing is not None:
        return redirect("release:request_detail", existing)
    doctors = selectors.ballot_doctors_shown(ballot)
    day = selectors.ballot_day(ballot)
    form = RequestForm(
        request.POST if request.method == "POST" else None, doctors=doctors, parts=day.parts
    )
    refusal = None
    if request.method == "POST" and form.is_valid():
        try:
            result = services.request_make(
                actor=request.user,
                patient=patient,
                ballot=ballot,
                doctor_ids=form.doctor_ids(),
                times=form.cleaned_data["times"],
                ip=client_ip(request),
            )
        except ReleaseRefused as refused:
            refusal = refusal_text(selectors.refusal_told(refused.code, request.user, patient.pk))
        else:
            messages.success(request, _("Заявка подана. Результат жеребьёвки появится здесь."))
            return redirect("release:request_detail", result.request.pk)
    status = 200
    if form.errors:
        status = 400
    elif refusal:
        status = 409
    return render(
        request,
        "release/request_new.html",
        {"ballot": ballot, "form": form, "refusal": refusal, "day": day},
        status=status,
    )


@require_GET
@patient_required
def request_detail(request: PatientRequest, request_id: int) -> HttpResponse:
    try:
        page = selectors.request_page(request.user, request.acting_patient, request_id)
    except Http404:
        owner = selectors.request_patient_for_user(request.user, request_id)
        if owner is None:
            raise
        # Her own request (or another child's) seen from the cabinet of someone else.
        return render(
            request, "release/request_elsewhere.html", {"owner": owner, "request_id": request_id}
        )
    row = page.request
    draw = row.draw
    lost = row.status == BallotRequest.Status.LOST and draw is not None
    return render(
        request,
        "release/request_detail.html",
        {
            "row": row,
            "draw": draw,
            "day": page.day,
            "why": selectors.lost_why(row, draw) if lost and draw is not None else None,
            "refusal": refusal_text(row.refusal) if row.refusal else None,
        },
    )


@require_POST
@patient_required
def request_withdraw(request: PatientRequest, request_id: int) -> HttpResponse:
    row = selectors.request_get_for_user(request.user, request.acting_patient, request_id)
    try:
        services.request_withdraw(actor=request.user, request=row, ip=client_ip(request))
    except ReleaseRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Заявка отозвана."))
    return redirect("release:request_detail", row.pk)
