from django.contrib import admin

from portal.staff.models import StaffMember


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin[StaffMember]):
    list_display = ("user", "role", "clinic")
    list_filter = ("role",)
    raw_id_fields = ("user",)
