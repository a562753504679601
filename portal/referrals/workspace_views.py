"""The clinic's side of referrals under /workspace/referrals/ (docs/referrals.md): a
clerk issues a referral on a doctor's behalf for a patient of their clinic, lists the
clinic's referrals and cancels one issued in error. Gated by `staff.decorators`; the
staff scope decides which clinics' referrals a member sees and changes."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.audit.models import AuditAction
from portal.audit.services import audit_record
from portal.core.http import client_ip
from portal.directory.models import Clinic, Doctor
from portal.patients.models import InsuredPerson
from portal.patients.services import patient_for_insured_person
from portal.referrals import selectors
from portal.referrals.errors import ReferralRefused
from portal.referrals.forms import CancelForm, IssueForm
from portal.referrals.models import Referral
from portal.referrals.services import referral_cancel, referral_issue
from portal.staff.decorators import StaffRequest, staff_required
from portal.staff.permissions import clinic_scope_for

PER_PAGE = 50


def _scope_ids(request: StaffRequest) -> list[int] | None:
    """The clinics whose referrals this member sees; None for every clinic (the operator)."""
    if request.staff.is_operator:
        return None
    return list(clinic_scope_for(request.user).values_list("pk", flat=True))


@require_GET
@staff_required
def clinic_list(request: StaffRequest) -> HttpResponse:
    scope = _scope_ids(request)
    page = Paginator(selectors.referrals_of_clinic(scope), PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "referrals/clinic_list.html",
        {
            "page": page,
            "rows": selectors.referral_rows(page, keep_order=True),
            "flagged": list(selectors.flagged_for_clinic(scope)),
            "cancel_form": CancelForm(),
        },
    )


def _issuer_clinic(request: StaffRequest) -> Clinic | None:
    """A referral is issued by the member's own clinic (an operator has none)."""
    return request.staff.clinic


@require_http_methods(["GET", "POST"])
@staff_required
def issue(request: StaffRequest) -> HttpResponse:
    clinic = _issuer_clinic(request)
    if clinic is None:
        return render(request, "referrals/issue_refused.html", status=403)
    doctors = Doctor.objects.filter(clinic=clinic, is_active=True).order_by("last_name")
    form = IssueForm(request.POST or None, doctors=doctors)
    error, status = None, 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                referral = _issue(request, clinic, form)
            except ReferralRefused as refused:
                error, status = refused.message, 409
            else:
                messages.success(
                    request,
                    _(
                        "Направление № %(number)s выдано. Пациент увидит его в разделе "
                        "«Направления»."
                    )
                    % {"number": referral.number},
                )
                return redirect("referrals:clinic_list")
    return render(
        request,
        "referrals/issue.html",
        {"form": form, "error": error, "clinic": clinic},
        status=status,
    )


def _issue(request: StaffRequest, clinic: Clinic, form: IssueForm) -> Referral:
    data = form.cleaned_data
    # The registry of insured persons, by the exact policy, among the clinic's own
    # patients: as for booking by phone, the look-up is journalled and shows no one else.
    person = (
        InsuredPerson.objects.select_related("clinic", "insurer")
        .filter(policy_number=data["policy"], clinic=clinic)
        .first()
    )
    audit_record(
        AuditAction.REGISTRY_SEARCHED,
        actor=request.user,
        ip=client_ip(request),
        by="policy",
        found=[person.pk] if person else [],
    )
    if person is None:
        raise ReferralRefused("patient_unknown")
    return referral_issue(
        actor=request.user,
        patient=patient_for_insured_person(person),
        specialty=data["specialty"],
        issuer_clinic=clinic,
        clinic=data["clinic"],
        doctor=data["doctor"],
        valid_until=data["valid_until"],
        reason=data["reason"],
        ip=client_ip(request),
    )


@require_POST
@staff_required
def cancel(request: StaffRequest, referral_id: int) -> HttpResponse:
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Укажите причину отмены: её прочтёт пациент."))
        return redirect("referrals:clinic_list")
    try:
        referral = referral_cancel(
            actor=request.user,
            referral_id=referral_id,
            reason=form.cleaned_data["reason"],
            ip=client_ip(request),
        )
    except ReferralRefused as refused:
        # Another clinic's referral answers as an unknown one: ids are not to be probed.
        status = 409 if refused.code == "already_cancelled" else 404
        if refused.code == "cancel_no_reason":
            status = 400
        return render(
            request, "referrals/cancel_refused.html", {"message": refused.message}, status=status
        )
    messages.success(
        request,
        _("Направление № %(number)s отменено, пациенту отправлено сообщение.")
        % {"number": referral.number},
    )
    return redirect("referrals:clinic_list")
