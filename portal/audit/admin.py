from django.contrib import admin
from django.http import HttpRequest

from portal.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    """Read-only: the journal is append-only, even for administrators."""

    list_display = ("created_at", "action", "user", "patient", "ip")
    list_filter = ("action",)
    list_select_related = ("user", "patient")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
