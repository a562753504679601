"""Schedules: a doctor's weekly rules, edited with a preview of what the change creates
and removes, then published by the booking service (`scheduling.services.schedule_publish`).

Two steps, like an absence: «Показать, что изменится» shows the diff and the appointments
that would be cancelled; only «Опубликовать» changes anything (docs/workspace.md).
"""

import datetime

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.core.http import client_ip
from portal.scheduling import selectors as scheduling_selectors
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import ScheduleRule
from portal.scheduling.services import schedule_preview, schedule_publish
from portal.staff.decorators import StaffRequest, staff_required
from portal.staff.permissions import clinic_scope_for, doctor_get_for_staff, doctors_in_scope
from portal.workspace.forms import ClinicPickForm, ScheduleRuleForm, schedule_rule_initial


@staff_required
def schedule_index(request: StaffRequest) -> HttpResponse:
    """The doctors whose schedules the staff member keeps (the operator picks a clinic)."""
    clinics = clinic_scope_for(request.user).order_by("short_name")
    initial = {"clinic": request.staff.clinic_id} if request.staff.clinic_id else {}
    form = ClinicPickForm(request.GET or None, initial=initial, clinics=clinics)
    clinic_id = request.staff.clinic_id
    if form.is_valid():
        clinic_id = form.cleaned_data["clinic"].pk
    doctors = (
        doctors_in_scope(request.user)
        .filter(clinic_id=clinic_id, is_active=True)
        .select_related("specialty")
        .order_by("specialty__name", "last_name", "first_name")
        if clinic_id is not None
        else None
    )
    return render(
        request,
        "workspace/schedule_index.html",
        {"form": form, "doctors": doctors, "single_clinic": request.staff.clinic_id is not None},
        status=400 if form.errors else 200,
    )


@staff_required
def schedule_doctor(request: StaffRequest, doctor_id: int) -> HttpResponse:
    doctor = doctor_get_for_staff(request.user, doctor_id)
    today = timezone.localdate()
    rules = scheduling_selectors.schedule_rules_list(doctor.pk)
    # A rule ended yesterday («Завершить») gives no more time: it is listed as ended.
    current = [r for r in rules if r.valid_until is None or r.valid_until >= today]
    ended = [r for r in rules if r not in current]
    return render(
        request,
        "workspace/schedule_doctor.html",
        {"doctor": doctor, "current": current, "ended": ended},
    )


def _rule_of(doctor_id: int, rule_id: int | None, rules: list[ScheduleRule]) -> ScheduleRule | None:
    if rule_id is None:
        return None
    rule = next((r for r in rules if r.pk == rule_id), None)
    if rule is None:
        raise Http404  # another doctor's rule, or none: reveals nothing
    return rule


def _expected_ids(raw: str) -> list[int]:
    return [int(part) for part in raw.split(",") if part.isdigit()]


@staff_required
def schedule_rule_edit(
    request: StaffRequest, doctor_id: int, rule_id: int | None = None
) -> HttpResponse:
    doctor = doctor_get_for_staff(request.user, doctor_id)
    rules = scheduling_selectors.schedule_rules_list(doctor.pk)
    rule = _rule_of(doctor.pk, rule_id, rules)
    initial = schedule_rule_initial(rule)
    if rule is not None and request.GET.get("end") == "1":
        initial["valid_until"] = timezone.localdate() - datetime.timedelta(days=1)
    posted = request.method == "POST"
    form = ScheduleRuleForm(
        request.POST if posted else None, initial=initial, current=rules, rule_id=rule_id
    )
    context = {"form": form, "doctor": doctor, "rule": rule}
    if not posted or not form.is_valid():
        status = 400 if form.errors else 200
        return render(request, "workspace/schedule_rule.html", context, status=status)
    fingerprint = form.fingerprint()
    if request.POST.get("confirm") != "1" or request.POST.get("previewed") != fingerprint:
        diff = schedule_preview(doctor_id=doctor.pk, rule_id=rule_id, draft=form.draft)
        affected = scheduling_selectors.schedule_affected_appointments(diff.cancel)
        context.update(
            diff=diff,
            affected=affected,
            expected=",".join(str(a.pk) for a in affected),
            previewed=fingerprint,
        )
        return render(request, "workspace/schedule_rule.html", context)
    try:
        result = schedule_publish(
            actor=request.user,
            doctor=doctor,
            rule_id=rule_id,
            draft=form.draft,
            reason=form.cleaned_data["reason"],
            expected_cancelled=_expected_ids(request.POST.get("expected", "")),
            ip=client_ip(request),
        )
    except BookingRefused as refusal:
        messages.error(request, refusal.message)
        diff = schedule_preview(doctor_id=doctor.pk, rule_id=rule_id, draft=form.draft)
        affected = scheduling_selectors.schedule_affected_appointments(diff.cancel)
        context.update(
            diff=diff,
            affected=affected,
            expected=",".join(str(a.pk) for a in affected),
            previewed=fingerprint,
        )
        return render(request, "workspace/schedule_rule.html", context, status=409)
    count = len(result.cancelled)
    messages.success(
        request,
        _("Расписание опубликовано: новых интервалов %(created)d, закрыто %(blocked)d.")
        % {"created": len(result.diff.create), "blocked": len(result.diff.block)}
        + " "
        + (
            ngettext(
                "Отменена %(count)d запись, пациент получит уведомление.",
                "Отменено записей: %(count)d, пациенты получат уведомления.",
                count,
            )
            % {"count": count}
            if count
            else _("Ни одна запись не отменена.")
        ),
    )
    return redirect("workspace:schedule_doctor", doctor_id=doctor.pk)
