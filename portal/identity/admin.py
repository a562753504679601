from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from portal.identity.models import User


@admin.register(User)
class PortalUserAdmin(UserAdmin[User]):
    list_display = ("username", "last_name", "first_name", "esia_oid", "clinic", "is_staff")
    fieldsets = (*UserAdmin.fieldsets, ("Портал", {"fields": ("esia_oid", "clinic")}))  # type: ignore[misc]
