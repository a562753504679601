"""Requests are read-only here (their states change only through services.py, with the
row lock, the journal and the notifications); a clinic's cut-off hour and working days
are plain settings, edited here (docs/home-visits.md)."""

from django.contrib import admin

from portal.core.admin import ViewOnlyAdmin
from portal.home_visits.models import ClinicHomeVisitSettings, EsiaAddresses, HomeVisit


@admin.register(HomeVisit)
class HomeVisitAdmin(ViewOnlyAdmin[HomeVisit]):
    list_display = ("pk", "patient", "clinic", "area", "day", "state", "doctor", "created_at")
    list_filter = ("state",)
    raw_id_fields = ("patient", "applicant", "clinic", "handled_by", "doctor")


@admin.register(EsiaAddresses)
class EsiaAddressesAdmin(ViewOnlyAdmin[EsiaAddresses]):
    list_display = ("pk", "patient", "updated_at")
    raw_id_fields = ("patient",)


@admin.register(ClinicHomeVisitSettings)
class ClinicHomeVisitSettingsAdmin(admin.ModelAdmin[ClinicHomeVisitSettings]):
    list_display = ("clinic", "cutoff_hour", "working_weekdays")
    raw_id_fields = ("clinic",)
