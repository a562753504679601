from django.db.models import QuerySet

from portal.audit.models import AuditEvent


def audit_events_for_patient(patient_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(patient_id=patient_id).select_related("user", "user__patient")
