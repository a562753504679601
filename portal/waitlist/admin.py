"""Read-only: offers and entries change only through services.py (holds are booking
state, docs/concurrency.md)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from portal.waitlist.models import Offer, WaitlistEntry


class _ReadOnly(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(_ReadOnly):
    list_display = ("pk", "patient", "clinic", "specialty", "doctor", "status", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("patient", "clinic", "specialty", "doctor", "created_by")


@admin.register(Offer)
class OfferAdmin(_ReadOnly):
    list_display = ("pk", "kind", "patient", "slot", "status", "expires_at")
    list_filter = ("kind", "status")
    raw_id_fields = ("patient", "slot", "entry", "cancelled", "appointment")
