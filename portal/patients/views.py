"""Personal data, relatives and acting for a child (instruction Рис. 4–9)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal.audit.selectors import audit_events_for_patient
from portal.core.http import PatientRequest, client_ip
from portal.core.ratelimits import rate_limited, refusals_limited
from portal.patients.decorators import patient_required
from portal.patients.forms import OwnPolicyForm, RelativeForm
from portal.patients.models import Guardianship, Patient
from portal.patients.selectors import (
    esia_kids_offer,
    journal_rows,
    patient_get_for_user,
    patient_of_user,
    relatives_of,
)
from portal.patients.services import (
    RelativeData,
    acting_switch,
    own_policy_set,
    relative_add,
    relative_from_esia_kid,
    relative_remove,
)


def _own(request: PatientRequest) -> Patient:
    """The logged-in user's own record (patient_required has made sure it exists)."""
    own = patient_of_user(request.user)
    if own is None:  # pragma: no cover - patient_required redirects first
        raise Http404
    return own


@require_http_methods(["GET", "POST"])
@patient_required
@rate_limited("relative_user")
def personal(request: PatientRequest) -> HttpResponse:
    """«Личные данные» (Рис. 5) and the relatives list (Рис. 8)."""
    own = _own(request)
    form = None
    if not own.policy_number or own.insurer_id is None:
        form = OwnPolicyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                own_policy_set(
                    own,
                    form.cleaned_data["policy_series"],
                    form.cleaned_data["policy_number"],
                    actor=request.user,
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Полис сохранён, данные взяты из регистра."))
                return redirect("patients:personal")
    return render(
        request,
        "patients/personal.html",
        {"own": own, "form": form, "relatives": relatives_of(own)},
    )


@require_http_methods(["GET", "POST"])
@patient_required
@rate_limited("relative_user")
def relative_add_view(request: PatientRequest) -> HttpResponse:
    """«Добавить родственника» (Рис. 6–7) and «Добавить из Госуслуг»."""
    own = _own(request)
    form = RelativeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = RelativeData(**form.cleaned_data)
        try:
            guardianship = relative_add(
                own,
                data,
                source=Guardianship.Source.MANUAL,
                actor=request.user,
                ip=client_ip(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("%(name)s добавлен(а) в список родственников.")
                % {"name": guardianship.child.full_name},
            )
            return redirect(reverse("patients:personal") + "#relatives")
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request,
        "patients/relative_add.html",
        {"form": form, "esia_kids": esia_kids_offer(own)},
        status=status,
    )


@require_POST
@patient_required
@rate_limited("relative_user")
def relative_add_from_esia(request: PatientRequest) -> HttpResponse:
    """One click on a child ESIA listed; the same registry checks as the form."""
    own = _own(request)
    kid_id = request.POST.get("kid", "")
    kid = next((k for k in esia_kids_offer(own) if str(k.get("id")) == kid_id), None)
    if kid is None:
        messages.error(request, _("Этого ребёнка нет в списке из Госуслуг или он уже добавлен."))
        return redirect("patients:relative_add")
    try:
        guardianship = relative_add(
            own,
            relative_from_esia_kid(kid),
            source=Guardianship.Source.ESIA,
            actor=request.user,
            ip=client_ip(request),
        )
    except ValidationError as exc:
        reasons = " ".join(str(m) for m in exc.messages)
        messages.error(
            request,
            _("Не удалось добавить ребёнка из Госуслуг: %(reasons)s Добавьте его вручную.")
            % {"reasons": reasons},
        )
        return redirect("patients:relative_add")
    messages.success(
        request,
        _("%(name)s добавлен(а) в список родственников.") % {"name": guardianship.child.full_name},
    )
    return redirect(reverse("patients:personal") + "#relatives")


@require_POST
@patient_required
def relative_remove_view(request: PatientRequest, guardianship_id: int) -> HttpResponse:
    own = _own(request)
    guardianship = relative_remove(own, guardianship_id, request=request)
    if guardianship is None:
        raise Http404
    messages.success(
        request,
        _("%(name)s больше нет в списке родственников. Записи к врачу сохранены в истории.")
        % {"name": guardianship.child.full_name},
    )
    return redirect(reverse("patients:personal") + "#relatives")


@require_POST
@patient_required
def acting_switch_view(request: PatientRequest) -> HttpResponse:
    """Switch the cabinet to a child from the surname menu (Рис. 9), or back."""
    own = _own(request)
    try:
        patient_id = int(request.POST.get("patient", ""))
    except ValueError:
        patient_id = own.pk
    with refusals_limited(request):
        target = patient_get_for_user(request.user, patient_id, request=request)
    acting_switch(request, own, target)
    return redirect("cabinet")


@patient_required
def journal(request: PatientRequest, patient_id: int) -> HttpResponse:
    """«Кто действовал от моего имени»: the patient's own or a guardian's view."""
    with refusals_limited(request):
        patient = patient_get_for_user(request.user, patient_id, request=request)
    events = Paginator(audit_events_for_patient(patient.pk), 50).get_page(request.GET.get("page"))
    rows = journal_rows(events, request.user)
    return render(
        request, "patients/journal.html", {"patient": patient, "events": events, "rows": rows}
    )
