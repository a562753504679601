from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from portal.audit.devices import request_device
from portal.core.http import client_ip
from portal.patients.guardianships import guardianship_confirm
from portal.patients.models import Guardianship, InsuranceCompany, InsuredPerson, Patient


@admin.register(InsuranceCompany)
class InsuranceCompanyAdmin(admin.ModelAdmin[InsuranceCompany]):
    list_display = ("name", "code")


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin[Patient]):
    list_display = ("last_name", "first_name", "middle_name", "birth_date", "clinic")
    search_fields = ("last_name",)
    list_select_related = ("clinic",)


@admin.register(Guardianship)
class GuardianshipAdmin(admin.ModelAdmin[Guardianship]):
    """Read-mostly: verification and ending go through the services (and the audit)."""

    list_display = (
        "guardian",
        "child",
        "relation",
        "source",
        "verified_at",
        "verified_how",
        "created_at",
        "ended_at",
    )
    list_filter = ("verified_how", "source")
    list_select_related = ("guardian", "child")
    readonly_fields = (
        "verified_at",
        "verified_how",
        "verified_by",
        "ended_at",
        "end_reason",
        "ended_by",
    )
    actions = ("confirm_guardianships",)

    @admin.action(description=_("Подтвердить законного представителя (документы проверены)"))
    def confirm_guardianships(self, request: HttpRequest, queryset: QuerySet[Guardianship]) -> None:
        confirmed, refused = 0, 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                guardianship_confirm(
                    actor=request.user,  # type: ignore[arg-type]
                    guardianship_id=pk,
                    ip=client_ip(request),
                    device=request_device(request),
                )
            except (PermissionDenied, Guardianship.DoesNotExist):
                refused += 1
            else:
                confirmed += 1
        if confirmed:
            self.message_user(
                request, _("Подтверждено законных представителей: %(n)s.") % {"n": confirmed}
            )
        if refused:
            self.message_user(
                request,
                _(
                    "Не подтверждено: %(n)s. Подтвердить можно только действующую связь "
                    "ребёнка, прикреплённого к вашей медицинской организации."
                )
                % {"n": refused},
                level=messages.WARNING,
            )


@admin.register(InsuredPerson)
class InsuredPersonAdmin(admin.ModelAdmin[InsuredPerson]):
    list_display = ("last_name", "first_name", "birth_date", "policy_kind", "insurer", "clinic")
    search_fields = ("policy_number", "last_name")
    list_select_related = ("insurer", "clinic")
