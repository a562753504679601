"""The notifications of referrals (docs/referrals.md): a referral cancelled by the clinic,
told in the cancel's transaction (`referrals.events.referral_cancelled`, heard by
`receivers`), and the reminder a few days before an unused referral expires (written once
a day by `notifications_sweep`, idempotent by its key)."""

import datetime

from django.conf import settings
from django.utils import timezone

from portal.notifications import texts, timing
from portal.notifications.models import Kind, Message
from portal.notifications.selectors import addresses_of, preference_of, recipients_for
from portal.notifications.services import _per_channel, _rows_now, _write, sms_configured
from portal.referrals.models import Referral
from portal.referrals.selectors import referrals_expiring


def referral_cancelled_notify(referral: Referral) -> list[Message]:
    """Everyone who hears of the patient's bookings hears the referral is cancelled."""
    patient = referral.patient
    return _write(
        _rows_now(
            kind=Kind.REFERRAL_CANCELLED,
            patient=patient,
            booked_by_id=None,
            content_for=lambda recipient: texts.referral_cancelled_content(
                patient, referral.number, recipient
            ),
            appointment=None,
            key=f"{Kind.REFERRAL_CANCELLED}:{referral.pk}",
        )
    )


def referral_expiring_notify(today: datetime.date | None = None) -> int:
    """Remind, once, of every active referral that expires in
    REFERRAL_EXPIRY_REMINDER_DAYS days and backs no appointment. Returns how many
    messages it wrote; the sweep may run it as often as it likes."""
    today = today or timezone.localdate()
    day = today + datetime.timedelta(days=settings.REFERRAL_EXPIRY_REMINDER_DAYS)
    at = timing.quiet_end_after(timezone.now())
    rows: list[Message] = []
    for referral in referrals_expiring(day).select_related("patient"):
        patient = referral.patient
        for recipient in recipients_for(patient):
            rows += _per_channel(
                addresses_of(recipient, preference_of(recipient), sms_configured()),
                kind=Kind.REFERRAL_EXPIRING,
                patient=patient,
                recipient=recipient,
                content=texts.referral_expiring_content(
                    patient, referral.number, referral.valid_until, recipient
                ),
                at=at,
                appointment=None,
                key=f"{Kind.REFERRAL_EXPIRING}:{referral.pk}:{recipient.pk}",
            )
    known = set(
        Message.objects.filter(dedupe_key__in=[m.dedupe_key for m in rows]).values_list(
            "dedupe_key", flat=True
        )
    )
    fresh = [m for m in rows if m.dedupe_key not in known]
    Message.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)
