"""Read-only: offers and entries change only through services.py (holds are booking
state, docs/concurrency.md)."""

from django.contrib import admin

from portal.core.admin import ViewOnlyAdmin
from portal.waitlist.models import Offer, WaitlistEntry


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ViewOnlyAdmin[WaitlistEntry]):
    list_display = ("pk", "patient", "clinic", "specialty", "doctor", "status", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("patient", "clinic", "specialty", "doctor", "created_by")


@admin.register(Offer)
class OfferAdmin(ViewOnlyAdmin[Offer]):
    list_display = ("pk", "kind", "patient", "slot", "status", "expires_at")
    list_filter = ("kind", "status")
    raw_id_fields = ("patient", "slot", "entry", "cancelled", "appointment")
