from django.contrib import admin

from portal.scheduling.models import Absence, Appointment, ScheduleRule, Slot


@admin.register(ScheduleRule)
class ScheduleRuleAdmin(admin.ModelAdmin):
    list_display = ["doctor", "weekdays", "start_time", "end_time", "slot_minutes", "days_ahead"]
    raw_id_fields = ["doctor"]


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    list_display = ["doctor", "kind", "starts_on", "ends_on"]
    raw_id_fields = ["doctor"]


@admin.register(Slot)
class SlotAdmin(admin.ModelAdmin):
    list_display = ["doctor", "starts_at", "status", "opens_at"]
    list_filter = ["status"]
    raw_id_fields = ["doctor"]
    date_hierarchy = "starts_at"
    show_full_result_count = False


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["ticket_number", "patient", "starts_at", "status"]
    list_filter = ["status"]
    raw_id_fields = ["slot", "patient", "booked_by"]
    search_fields = ["ticket_number"]
    show_full_result_count = False
