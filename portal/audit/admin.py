from django.contrib import admin

from portal.audit.models import AuditEvent
from portal.core.admin import ViewOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ViewOnlyAdmin[AuditEvent]):
    """Read-only: the journal is append-only, even for administrators."""

    list_display = ("created_at", "action", "user", "patient", "ip")
    list_filter = ("action",)
    list_select_related = ("user", "patient")
