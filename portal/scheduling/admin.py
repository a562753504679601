"""The staff admin of schedules, slots and appointments.

Booking state (Slot.status, Appointment.status and everything an appointment copies from
its slot) is read-only here: only the booking service writes it (docs/concurrency.md).
Staff cancel an appointment with the «Отменить от имени поликлиники» action, which goes
through `services.appointment_cancel_by_clinic` with the same locks as the patient's own
cancellation, so a slot is never left booked without its appointment or the reverse.
"""

from typing import TypeVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from portal.core.admin import ViewOnlyAdmin
from portal.core.http import AuthenticatedRequest, client_ip
from portal.scheduling import services
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Absence, Appointment, ScheduleRule, Slot

ClinicRow = TypeVar("ClinicRow", Slot, Appointment)


def _of_own_clinic(
    request: HttpRequest, rows: QuerySet[ClinicRow], clinic_lookup: str
) -> QuerySet[ClinicRow]:
    """A clerk sees their clinic's rows only; the region's operator (a superuser), all."""
    user = request.user
    if getattr(user, "is_superuser", False):
        return rows
    clinic_id: int | None = getattr(user, "clinic_id", None)
    if clinic_id is None:
        return rows.none()
    return rows.filter(**{clinic_lookup: clinic_id})


# Rules and absences change slots and appointments: a row saved here would skip the
# preview and leave booked patients on time the doctor no longer works. They are
# changed in the workspace, through the booking service (docs/workspace.md).


@admin.register(ScheduleRule)
class ScheduleRuleAdmin(ViewOnlyAdmin[ScheduleRule]):
    list_display = ["doctor", "weekdays", "start_time", "end_time", "slot_minutes", "days_ahead"]
    raw_id_fields = ["doctor"]


@admin.register(Absence)
class AbsenceAdmin(ViewOnlyAdmin[Absence]):
    list_display = ["doctor", "kind", "starts_on", "ends_on"]
    raw_id_fields = ["doctor"]


@admin.register(Slot)
class SlotAdmin(admin.ModelAdmin[Slot]):
    """Slots are made by slot generation and change state only by booking: view only."""

    list_display = ["doctor", "starts_at", "status", "opens_at"]
    list_filter = ["status"]
    list_select_related = ["doctor"]
    date_hierarchy = "starts_at"
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Slot]:
        return _of_own_clinic(request, super().get_queryset(request), "doctor__clinic_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Slot | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Slot | None = None) -> bool:
        return False


class ClinicCancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Причина отмены (её увидит пациент)"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("Укажите причину отмены: её увидит пациент.")},
    )
    doctor_absent = forms.BooleanField(
        label=gettext_lazy("Врач не будет вести приём в это время (время закрыть для записи)"),
        required=False,
    )


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin[Appointment]):
    list_display = ["ticket_number", "patient", "starts_at", "status"]
    list_filter = ["status"]
    list_select_related = ["patient"]
    search_fields = ["ticket_number"]
    show_full_result_count = False
    actions = ["cancel_by_clinic"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Appointment | None = None) -> bool:
        # Not even a no-op save: the form would write back the row as it was read and
        # undo a cancellation that committed in between.
        return False

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        """Who may use the clinic's cancellation: staff allowed to change appointments."""
        return request.user.has_perm("scheduling.change_appointment")

    def has_delete_permission(self, request: HttpRequest, obj: Appointment | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Appointment]:
        return _of_own_clinic(request, super().get_queryset(request), "slot__doctor__clinic_id")

    @admin.action(
        description=gettext_lazy("Отменить от имени поликлиники"),
        permissions=["cancel"],
    )
    def cancel_by_clinic(
        self, request: AuthenticatedRequest, queryset: QuerySet[Appointment]
    ) -> TemplateResponse | None:
        form = ClinicCancelForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._cancel_each(request, queryset, form)
            return None  # back to the list, with the messages
        return TemplateResponse(
            request,
            "admin/scheduling/appointment/cancel_by_clinic.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Отмена записей от имени поликлиники"),
                "opts": self.model._meta,
                "appointments": queryset.select_related("patient", "slot__doctor"),
                "form": form,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )

    def _cancel_each(
        self,
        request: AuthenticatedRequest,
        queryset: QuerySet[Appointment],
        form: ClinicCancelForm,
    ) -> None:
        cancelled = 0
        for appointment in queryset:
            try:
                services.appointment_cancel_by_clinic(
                    actor=request.user,
                    appointment=appointment,
                    reason=form.cleaned_data["reason"],
                    free_slot=not form.cleaned_data["doctor_absent"],
                    ip=client_ip(request),
                )
            except BookingRefused as refused:
                self.message_user(
                    request, f"{appointment.ticket_number}: {refused.message}", messages.ERROR
                )
            else:
                cancelled += 1
        if cancelled:
            self.message_user(
                request,
                ngettext("Отменена %(count)d запись.", "Отменено записей: %(count)d.", cancelled)
                % {"count": cancelled},
                messages.SUCCESS,
            )
