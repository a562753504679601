"""The patient's pages of home visits (docs/home-visits.md): the form, the request's page
and the list in the cabinet. Thin: rules in rules.py/services.py, reads in selectors.py."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.core.http import PatientRequest, client_ip
from portal.home_visits import rules, selectors, services
from portal.home_visits.errors import HomeVisitRefused
from portal.home_visits.forms import CancelForm, VisitForm
from portal.home_visits.models import HomeVisit
from portal.patients.decorators import patient_or_404, patient_required
from portal.patients.models import Patient
from portal.patients.selectors import patients_actable_by


@require_GET
@patient_required
def visit_list(request: PatientRequest) -> HttpResponse:
    visits = selectors.visits_visible_to(request.user)[:50]
    return render(request, "home_visits/list.html", {"visits": visits})


def _for_whom(request: PatientRequest) -> Patient:
    raw = request.POST.get("patient") or request.GET.get("patient") or ""
    if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31:
        return patient_or_404(request, int(raw))
    return request.acting_patient


def _initial(
    request: PatientRequest, patient: Patient, offered: list[dict[str, str]]
) -> dict[str, str]:
    """The address picked from the offered ones (``?address=N``), else the patient's last
    request's, else the first from ESIA; the phone from the user's ESIA contacts."""
    own = Patient.objects.filter(user=request.user).first()
    initial = {"phone": (own.phone if own else "") or patient.phone}
    pick = request.GET.get("address", "")
    last = HomeVisit.objects.filter(patient=patient).order_by("-created_at").first()
    if pick.isascii() and pick.isdigit() and int(pick) < len(offered):
        chosen = offered[int(pick)]
        initial.update(address=chosen["text"], apartment=chosen["flat"])
    elif last is not None:
        initial.update(
            address=last.address,
            apartment=last.apartment,
            entrance=last.entrance,
            floor=last.floor,
            intercom=last.intercom,
        )
    elif offered:
        initial.update(address=offered[0]["text"], apartment=offered[0]["flat"])
    return initial


@require_http_methods(["GET", "POST"])
@patient_required
def visit_new(request: PatientRequest) -> HttpResponse:
    patient = _for_whom(request)
    addresses = selectors.addresses_offered(request.user)
    form = VisitForm(request.POST or None, initial=_initial(request, patient, addresses))
    context = {
        "form": form,
        "patient": patient,
        "patients": patients_actable_by(request.user).order_by("birth_date"),
        "addresses": addresses,
        "day": rules.visit_day(patient.clinic) if patient.clinic else None,
        "open_visit": selectors.open_visit_of(request.user, patient.pk),
    }
    if request.method != "POST":
        return render(request, "home_visits/new.html", context)
    if not form.is_valid():
        return render(request, "home_visits/new.html", context, status=400)
    try:
        visit = services.visit_create(
            actor=request.user, patient=patient, data=form.visit_data(), ip=client_ip(request)
        )
    except HomeVisitRefused as refused:
        context.update(error=refused.message, red_flag=refused.code == "red_flag")
        return render(
            request,
            "home_visits/new.html",
            context,
            status=409 if refused.code in ("already_open", "busy") else 400,
        )
    messages.success(request, _("Вызов врача на дом принят. Следите за его состоянием здесь."))
    return redirect("home_visits:detail", visit.pk)


@require_GET
@patient_required
def visit_detail(request: PatientRequest, visit_id: int) -> HttpResponse:
    visit = selectors.visit_get_for_user(request.user, visit_id)
    return render(
        request,
        "home_visits/detail.html",
        {
            "visit": visit,
            "may_cancel": rules.patient_cancel_refusal(visit) is None,
            "cancel_form": CancelForm(),
            "symptoms": [rules.SYMPTOMS[code] for code in visit.symptoms if code in rules.SYMPTOMS],
        },
    )


@require_POST
@patient_required
def visit_cancel(request: PatientRequest, visit_id: int) -> HttpResponse:
    visit = selectors.visit_get_for_user(request.user, visit_id)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.visit_cancel_by_applicant(
            actor=request.user, visit_id=visit.pk, ip=client_ip(request), reason=reason
        )
    except HomeVisitRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Вызов врача на дом отменён."))
    return redirect("home_visits:detail", visit.pk)
