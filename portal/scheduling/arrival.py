"""Check-in at the registry window: «Пришёл» on the appointment's day (docs/workspace.md,
«The window»).

``arrived_at`` is part of the appointment's state, so it is written here, by the booking
service, with its locks in its order (docs/concurrency.md): the patient row, then the slot.
A conditional UPDATE keeps a double click to one check-in and refuses a cancelled visit.
"""

from django.db import transaction
from django.utils import timezone

from portal.audit.models import AuditAction
from portal.audit.services import audit_record
from portal.core.locking import busy_on_lock_timeout, lock_timeout_set
from portal.identity.models import User
from portal.patients.locks import patient_lock
from portal.scheduling.errors import BookingRefused, busy
from portal.scheduling.models import Appointment
from portal.scheduling.slot_locks import slot_lock


@transaction.atomic(durable=True)
def _mark_arrived(*, actor: User, appointment_id: int, ip: str | None) -> Appointment:
    lock_timeout_set()
    current = Appointment.objects.get(pk=appointment_id)
    patient = patient_lock(current.patient_id)
    slot_lock(current.slot_id)
    now = timezone.now()
    if timezone.localtime(current.starts_at).date() != timezone.localtime(now).date():
        raise BookingRefused("arrival_not_today")
    changed = Appointment.objects.filter(
        pk=current.pk, status=Appointment.Status.BOOKED, arrived_at__isnull=True
    ).update(arrived_at=now)
    if changed != 1:
        if Appointment.objects.filter(pk=current.pk, status=Appointment.Status.BOOKED).exists():
            current.refresh_from_db()
            return current  # already checked in: the second click changes nothing
        raise BookingRefused("arrival_not_active")
    audit_record(
        AuditAction.APPOINTMENT_ARRIVED,
        actor=actor,
        ip=ip,
        patient=patient,
        appointment=current.pk,
        ticket=current.ticket_number,
    )
    current.refresh_from_db()
    return current


def appointment_mark_arrived(
    *, actor: User, appointment: Appointment, ip: str | None = None
) -> Appointment:
    """The patient has come to the window on the appointment's day.

    The caller has checked that ``actor`` may manage the appointment's clinic
    (`workspace.permissions.appointment_get_for_staff`).
    """
    with busy_on_lock_timeout(busy):
        return _mark_arrived(actor=actor, appointment_id=appointment.pk, ip=ip)
