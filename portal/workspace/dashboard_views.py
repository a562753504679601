"""The dashboard of a clinic for its head and the regional operator: HTML with inline
SVG charts drawn by the server, and the same figures as CSV."""

import csv

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.directory.models import Clinic
from portal.staff.decorators import StaffRequest, staff_required
from portal.staff.permissions import clinic_scope_for, staff_may_see_dashboard
from portal.workspace.dashboard import SpecialtyFigures, bars, clinic_dashboard
from portal.workspace.forms import ClinicPickForm


def _chosen_clinic(request: StaffRequest) -> tuple[ClinicPickForm, Clinic | None]:
    clinics = clinic_scope_for(request.user).order_by("short_name")
    initial = {"clinic": request.staff.clinic_id} if request.staff.clinic_id else {}
    form = ClinicPickForm(request.GET or None, initial=initial, clinics=clinics)
    if form.is_valid():
        return form, form.cleaned_data["clinic"]
    if request.staff.clinic_id and not request.GET:
        return form, clinics.filter(pk=request.staff.clinic_id).first()
    return form, None


def _refused(request: StaffRequest) -> HttpResponse:
    return render(request, "workspace/dashboard_refused.html", status=403)


@staff_required
def dashboard(request: StaffRequest) -> HttpResponse:
    if not staff_may_see_dashboard(request.user):
        return _refused(request)
    form, clinic = _chosen_clinic(request)
    rows = clinic_dashboard(clinic) if clinic else []
    names = [row.specialty.name for row in rows]
    charts = {
        "free": bars(list(zip(names, [float(r.free_slots) for r in rows], strict=True)), ""),
        "third": bars(
            list(zip(names, [r.third_available_days for r in rows], strict=True)), _("дн.")
        ),
    }
    return render(
        request,
        "workspace/dashboard.html",
        {
            "form": form,
            "clinic": clinic,
            "rows": rows,
            "charts": charts,
            "chart_height": 28 * len(rows) + 4,
            "single_clinic": request.staff.clinic_id is not None,
        },
    )


@staff_required
def dashboard_csv(request: StaffRequest) -> HttpResponse:
    if not staff_may_see_dashboard(request.user):
        return _refused(request)
    _form, clinic = _chosen_clinic(request)
    if clinic is None:
        return HttpResponse(
            _("Выберите медицинскую организацию на странице показателей."),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="dashboard-{clinic.pk}-{stamp}.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 with a BOM as Cyrillic, not mojibake
    writer = csv.writer(response, delimiter=";")
    writer.writerow(_csv_header())
    for row in clinic_dashboard(clinic):
        writer.writerow(_csv_row(clinic, row))
    return response


def _csv_header() -> list[str]:
    return [
        _("Медицинская организация"),
        _("Специальность"),
        _("Свободно за 14 дней"),
        _("До третьего свободного, дней"),
        _("Неявки, %"),
        _("Отмена за, ч (медиана)"),
        _("Записи через портал"),
        _("Записи по телефону"),
    ]


def _csv_row(clinic: Clinic, row: SpecialtyFigures) -> list[str]:
    def number(value: float | None, digits: int = 1) -> str:
        return "" if value is None else f"{value:.{digits}f}".replace(".", ",")

    rate = None if row.no_show_rate is None else row.no_show_rate * 100
    return [
        clinic.short_name,
        row.specialty.name,
        str(row.free_slots),
        number(row.third_available_days),
        number(rate),
        number(row.cancel_lead_hours),
        str(row.bookings["portal"]),
        str(row.bookings["phone"]),
    ]
