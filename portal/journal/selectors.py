from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from portal.audit.models import AuditAction, AuditEvent
from portal.patients.selectors import patient_seen_in_full_by

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from portal.identity.models import User


def audit_events_for_patient(patient_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(patient_id=patient_id).select_related("user", "user__patient")


def audit_events_visible_to(
    viewer: "User | AnonymousUser", patient_id: int
) -> QuerySet[AuditEvent]:
    """The patient's journal as ``viewer`` may read it (the caller checked they may act
    for the patient): all of it, or for a guardian not yet verified only what they did
    and what happened to the appointments they booked (patients.selectors.actable_by).
    """
    events = audit_events_for_patient(patient_id)
    if patient_seen_in_full_by(viewer, patient_id):
        return events
    if viewer.pk is None:
        return events.none()
    booked = AuditEvent.objects.filter(
        patient_id=patient_id, user_id=viewer.pk, action=AuditAction.APPOINTMENT_BOOKED
    ).values_list("details__appointment", flat=True)
    own_appointments = [pk for pk in booked if isinstance(pk, int)]
    return events.filter(Q(user_id=viewer.pk) | Q(details__appointment__in=own_appointments))
