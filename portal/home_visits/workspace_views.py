"""The dispatcher's pages in the clinic workspace (docs/home-visits.md): the clinic's
requests for today and tomorrow by district; accept, assign a doctor and a window, mark
visited, cancel with a reason; a request entered for a person who phones. Who may is
`staff.permissions` (the staff gate and the clinic scope); the writes are services'."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.core.http import client_ip
from portal.home_visits import rules, selectors, services
from portal.home_visits.errors import HomeVisitRefused
from portal.home_visits.forms import AssignForm, CancelForm, PhoneForm
from portal.home_visits.models import HomeVisit
from portal.staff.decorators import StaffRequest, staff_required


@require_GET
@staff_required
def queue(request: StaffRequest) -> HttpResponse:
    groups = selectors.dispatcher_queue(request.user)
    doctors: dict[tuple[int, str], list[object]] = {}
    for _area, visits in groups:
        for visit in visits:
            key = (visit.clinic_id, visit.area)
            if key not in doctors:
                doctors[key] = list(selectors.doctors_for(visit))
            visit.doctor_choices = doctors[key]  # type: ignore[attr-defined]
            visit.symptom_labels = [  # type: ignore[attr-defined]
                rules.SYMPTOMS[code] for code in visit.symptoms if code in rules.SYMPTOMS
            ]
    return render(request, "home_visits/queue.html", {"groups": groups})


def _done(request: StaffRequest, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("home_visits_workspace:queue")


def _refused(request: StaffRequest, refused: HomeVisitRefused) -> HttpResponse:
    messages.error(request, refused.message)
    return redirect("home_visits_workspace:queue")


@dataclass(frozen=True)
class _Assignment:
    doctor_id: int | None
    start: datetime.time | None
    end: datetime.time | None


def _assignment(request: StaffRequest) -> _Assignment:
    form = AssignForm(request.POST)
    if not form.is_valid():
        raise HomeVisitRefused("doctor_unknown" if "doctor" in form.errors else "window_bad")
    data = form.cleaned_data
    return _Assignment(data["doctor"], data["start"], data["end"])


def _assigning(
    request: StaffRequest, visit_id: int, write: Callable[..., HomeVisit], done: str
) -> HttpResponse:
    """Accept or (re)assign: the same form, the same checks, another service call."""
    visit = selectors.visit_get_for_staff(request.user, visit_id)
    try:
        chosen = _assignment(request)
        write(
            actor=request.user,
            visit_id=visit.pk,
            ip=client_ip(request),
            doctor_id=chosen.doctor_id,
            start=chosen.start,
            end=chosen.end,
        )
    except HomeVisitRefused as refused:
        return _refused(request, refused)
    return _done(request, done)


@require_POST
@staff_required
def accept(request: StaffRequest, visit_id: int) -> HttpResponse:
    return _assigning(request, visit_id, services.visit_accept, _("Вызов принят в работу."))


@require_POST
@staff_required
def assign(request: StaffRequest, visit_id: int) -> HttpResponse:
    done = _("Врач назначен, пациент получит уведомление.")
    return _assigning(request, visit_id, services.visit_assign, done)


@require_POST
@staff_required
def visited(request: StaffRequest, visit_id: int) -> HttpResponse:
    visit = selectors.visit_get_for_staff(request.user, visit_id)
    try:
        services.visit_mark_visited(actor=request.user, visit_id=visit.pk, ip=client_ip(request))
    except HomeVisitRefused as refused:
        return _refused(request, refused)
    return _done(request, _("Отмечено: врач посетил пациента."))


@require_POST
@staff_required
def cancel(request: StaffRequest, visit_id: int) -> HttpResponse:
    visit = selectors.visit_get_for_staff(request.user, visit_id)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.visit_cancel_by_clinic(
            actor=request.user, visit_id=visit.pk, ip=client_ip(request), reason=reason
        )
    except HomeVisitRefused as refused:
        return _refused(request, refused)
    return _done(request, _("Вызов отменён, пациент получит уведомление с причиной."))


@require_http_methods(["GET", "POST"])
@staff_required
def phone(request: StaffRequest) -> HttpResponse:
    """A request for a person who phones: found by policy among the clinic's patients."""
    form = PhoneForm(request.POST or None)
    context: dict[str, object] = {"form": form}
    if request.method != "POST":
        return render(request, "home_visits/phone.html", context)
    if not form.is_valid():
        return render(request, "home_visits/phone.html", context, status=400)
    patient = selectors.patient_in_scope_by_policy(request.user, form.cleaned_data["policy"])
    if patient is None:
        context["error"] = _(
            "Пациент с таким полисом ОМС не прикреплён к вашей поликлинике. Проверьте номер "
            "полиса или направьте человека в поликлинику прикрепления."
        )
        return render(request, "home_visits/phone.html", context, status=404)
    try:
        visit: HomeVisit = services.visit_create(
            actor=request.user,
            patient=patient,
            data=form.visit_data(),
            ip=client_ip(request),
            by_phone=True,
        )
    except HomeVisitRefused as refused:
        context["error"] = refused.message
        return render(request, "home_visits/phone.html", context, status=400)
    return _done(
        request,
        _("Вызов для %(who)s на %(day)s принят.")
        % {"who": patient.short_name, "day": visit.day.strftime("%d.%m.%Y")},
    )
