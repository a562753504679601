"""Read-only: referrals change only through services.py (issued in the workspace or
imported, used and given back by the booking service, docs/referrals.md)."""

from django.contrib import admin

from portal.core.admin import ViewOnlyAdmin
from portal.referrals.models import Referral


@admin.register(Referral)
class ReferralAdmin(ViewOnlyAdmin[Referral]):
    list_display = ("number", "specialty", "issuer_clinic", "issued_on", "valid_until", "status")
    list_filter = ("status",)
    search_fields = ("number",)
    raw_id_fields = ("patient", "specialty", "clinic", "issuer_clinic", "issuer_doctor")
