"""Personal data, relatives and acting for a child (instruction Рис. 4–9)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal.audit.devices import request_device
from portal.core.http import PatientRequest, client_ip
from portal.core.ratelimits import (
    Budget,
    failure_count,
    failures_left,
    failures_limited,
)
from portal.patients.decorators import patient_or_404, patient_required
from portal.patients.errors import GuardianshipRefused
from portal.patients.forms import OwnPolicyForm, RelativeForm
from portal.patients.guardianships import (
    guardianship_approve,
    guardianship_revoke,
)
from portal.patients.models import Guardianship, Patient
from portal.patients.selectors import (
    ACTING_SESSION_KEY,
    esia_kids_offer,
    forget_acting_patient,
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
from portal.patients.wording import relative_added_message


def _own(request: PatientRequest) -> Patient:
    """The logged-in user's own record (patient_required has made sure it exists)."""
    own = patient_of_user(request.user)
    if own is None:  # pragma: no cover - patient_required redirects first
        raise Http404
    return own


def _acting_set(request: PatientRequest, child_id: int | None) -> None:
    """Store whom the session acts for (None: the user's own record)."""
    if child_id is None:
        request.session.pop(ACTING_SESSION_KEY, None)
    else:
        request.session[ACTING_SESSION_KEY] = child_id
    forget_acting_patient(request)


@require_http_methods(["GET", "POST"])
@patient_required
@failures_limited("relative_user")
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
                    device=request_device(request),
                )
            except ValidationError as exc:
                failure_count(request, "relative_user")
                form.add_error(None, exc)
            else:
                messages.success(request, _("Полис сохранён, данные взяты из регистра."))
                return redirect("patients:personal")
    relatives = relatives_of(own)
    notices = [{"row": row, "other": other} for row in relatives for other in row["pending"]]
    return render(
        request,
        "patients/personal.html",
        {"own": own, "form": form, "relatives": relatives, "notices": notices},
    )


@require_http_methods(["GET", "POST"])
@patient_required
def relative_add_view(request: PatientRequest) -> HttpResponse:
    """«Добавить родственника» (Рис. 6–7) and «Добавить из Госуслуг».

    The registry-matching budget (`relative_user`) is checked here rather than by
    `failures_limited`: a refused attempt keeps the typed form and says when it opens
    again, and every page says how many attempts are left (issue 27).
    """
    own = _own(request)
    form = RelativeForm(request.POST or None)
    budget = failures_left(request, "relative_user")
    if request.method == "POST" and budget is not None and budget.left == 0:
        response = _relative_form(request, own, form, budget, status=429)
        response["Retry-After"] = str(budget.seconds)
        return response
    if request.method == "POST" and form.is_valid():
        data = RelativeData(**form.cleaned_data)
        try:
            guardianship = relative_add(
                own,
                data,
                source=Guardianship.Source.MANUAL,
                actor=request.user,
                ip=client_ip(request),
                device=request_device(request),
            )
        except ValidationError as exc:
            # Only a failed registry match counts against the guessing budget (issue 16,
            # item 14): a mistyped date or an empty form is an honest mistake.
            failure_count(request, "relative_user")
            budget = failures_left(request, "relative_user")
            form.add_error(None, exc)
        else:
            messages.success(request, relative_added_message(guardianship.child))
            return redirect(reverse("patients:personal") + "#relatives")
    status = 400 if form.is_bound and form.errors else 200
    return _relative_form(request, own, form, budget, status=status)


def _relative_form(
    request: PatientRequest,
    own: Patient,
    form: RelativeForm,
    budget: Budget | None,
    *,
    status: int,
) -> HttpResponse:
    used = budget is not None and budget.left < budget.limit
    window = -(-budget.seconds // 60) if budget is not None else 0  # minutes, rounded up
    return render(
        request,
        "patients/relative_add.html",
        {
            "own": own,
            "form": form,
            "esia_kids": esia_kids_offer(own),
            # Warn once an attempt has failed; say when the form opens again once none is left.
            "attempts_left": budget.left if budget is not None and used else None,
            "locked_minutes": window if budget is not None and budget.left == 0 else None,
            "window_minutes": window,
        },
        status=status,
    )


@require_POST
@patient_required
def relative_add_from_esia(request: PatientRequest) -> HttpResponse:
    """One click on a child ESIA listed; the same registry checks as the form.

    Nothing here is typed or guessed — the child is one ESIA itself lists — so the
    typing budget of the form (`relative_user`) neither blocks nor counts it (issue 27).
    """
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
            device=request_device(request),
        )
    except ValidationError as exc:
        reasons = " ".join(str(m) for m in exc.messages)
        messages.error(
            request,
            _("Не удалось добавить ребёнка из Госуслуг: %(reasons)s Добавьте его вручную.")
            % {"reasons": reasons},
        )
        return redirect("patients:relative_add")
    messages.success(request, relative_added_message(guardianship.child))
    return redirect(reverse("patients:personal") + "#relatives")


@require_http_methods(["GET", "POST"])
@patient_required
def relative_remove_view(request: PatientRequest, guardianship_id: int) -> HttpResponse:
    """GET asks «Удалить …?» (a page, so it works without JavaScript); POST removes."""
    own = _own(request)
    if request.method == "GET":
        row = next((r for r in relatives_of(own) if r["guardianship"].pk == guardianship_id), None)
        if row is None:
            raise Http404
        return render(request, "patients/relative_remove.html", row)
    guardianship = relative_remove(
        guardian=own,
        guardianship_id=guardianship_id,
        actor=request.user,
        ip=client_ip(request),
        device=request_device(request),
    )
    if guardianship is None:
        raise Http404
    if request.session.get(ACTING_SESSION_KEY) == guardianship.child_id:
        _acting_set(request, None)
    messages.success(
        request,
        _("%(name)s больше нет в списке родственников. Записи к врачу сохранены в истории.")
        % {"name": guardianship.child.full_name},
    )
    return redirect(reverse("patients:personal") + "#relatives")


@require_POST
@patient_required
def guardianship_decide_view(
    request: PatientRequest, guardianship_id: int, decision: str
) -> HttpResponse:
    """A verified guardian approves or revokes a newcomer to the same child."""
    service = guardianship_approve if decision == "approve" else guardianship_revoke
    try:
        guardianship = service(
            actor=request.user,
            guardianship_id=guardianship_id,
            ip=client_ip(request),
            device=request_device(request),
        )
    except GuardianshipRefused:
        raise Http404 from None
    text = (
        _("Законный представитель %(name)s подтверждён: теперь ему доступны все записи ребёнка.")
        if decision == "approve"
        else _("Доступ %(name)s к кабинету ребёнка отозван.")
    )
    messages.success(request, text % {"name": guardianship.guardian.short_name})
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
    target = patient_or_404(request, patient_id)
    acting = acting_switch(
        actor=request.user,
        own=own,
        target=target,
        current_id=request.session.get(ACTING_SESSION_KEY),
        ip=client_ip(request),
        device=request_device(request),
    )
    _acting_set(request, acting)
    # «Записать» beside a child on the parent's home goes straight to the wizard; a page of
    # this site may ask to come back to it; anything else is ignored, so the form cannot
    # send the browser to another site.
    back_to = request.POST.get("next", "")
    if back_to == "booking":
        return redirect("scheduling:booking_start")
    if back_to.startswith("/") and url_has_allowed_host_and_scheme(
        back_to, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back_to)  # back to the page that asked for the switch
    return redirect("identity:cabinet")
