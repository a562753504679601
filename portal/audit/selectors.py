"""Reads of the journal that writers ask before they write."""

import datetime

from django.utils import timezone

from portal.audit.models import AuditAction, AuditEvent

REFUSAL_RECORD_INTERVAL = datetime.timedelta(hours=1)


def refusal_already_recorded(actor_id: int | None, patient_id: int | None) -> bool:
    """True if the journal already shows this actor refused on this patient this hour.

    The audit write of a refused access calls this first, so that probing cannot fill
    a victim's «Кто действовал от моего имени» with rows: one row per (actor, patient)
    per hour says all there is to say. The database decides, not the cache: with
    Redis down the journal must neither flood nor fall silent.
    """
    if actor_id is None or patient_id is None:
        return False
    return AuditEvent.objects.filter(
        action=AuditAction.ACCESS_REFUSED,
        user_id=actor_id,
        patient_id=patient_id,
        created_at__gte=timezone.now() - REFUSAL_RECORD_INTERVAL,
    ).exists()
