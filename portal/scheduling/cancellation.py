"""Cancellation and moves: an appointment ends, by the patient or by the clinic, or moves
to another time; and the clinic marks it attended (docs/concurrency.md).

Same locks in the same order as a booking (the patient row, then the slot rows, by
`core.locking`'s policy); every status change is a conditional UPDATE, so a double click
or a race ends an appointment once.
"""

import datetime
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.utils import timezone

from portal.audit.models import AuditAction
from portal.audit.services import audit_record
from portal.core.locking import busy_on_lock_timeout, lock_timeout_set
from portal.identity.models import User
from portal.patients.locks import patient_lock
from portal.patients.models import Patient
from portal.referrals.models import Referral
from portal.referrals.services import referral_carry, referral_give_back
from portal.scheduling import rules, selectors
from portal.scheduling.booking import (
    BookingResult,
    appointment_claim,
    booking_logged,
    claiming,
    referrals_for,
    replay,
)
from portal.scheduling.errors import BookingRefused, busy
from portal.scheduling.events import (
    announce,
    announce_after_commit,
    appointment_cancelled,
    appointment_moved,
    cancellation_committed,
)
from portal.scheduling.models import Appointment, Slot
from portal.scheduling.slot_locks import slot_lock, slots_lock
from portal.staff.permissions import staff_may_manage_clinic

logger = logging.getLogger(__name__)

# --- rescheduling --------------------------------------------------------------------


def _check_move(
    patient: Patient,
    actor: User,
    current: Appointment,
    slot: Slot,
    now: datetime.datetime,
    referrals: list[Referral],
) -> None:
    """Decide again, under the locks, with the function the reschedule page asks."""
    active = selectors.appointments_list_active(patient, now)
    refusal = rules.reschedule_refusal(
        patient, actor.pk, current, slot, active=active, now=now, referrals=referrals
    )
    if refusal:
        hidden = selectors.conflicts_hidden_from(actor, patient)
        raise BookingRefused(selectors.refusal_told(refusal, conflicts_hidden=hidden))


def _end_moved(current: Appointment, now: datetime.datetime) -> None:
    """Conditional UPDATE: only an active appointment is moved, and only once."""
    ended = Appointment.objects.filter(pk=current.pk, status=Appointment.Status.BOOKED).update(
        status=Appointment.Status.CANCELLED_PATIENT, cancelled_at=now
    )
    if ended != 1:
        raise BookingRefused("reschedule_not_active")
    Slot.objects.filter(pk=current.slot_id, status=Slot.Status.BOOKED).update(
        status=Slot.Status.FREE
    )


@transaction.atomic(durable=True)
def _reschedule(
    *,
    actor: User,
    appointment_id: int,
    slot_id: int,
    key: uuid.UUID,
    ip: str | None,
    device: str | None,
) -> BookingResult:
    lock_timeout_set()
    # Read without a lock only to learn whom to lock; decided again under the locks.
    patient_id = Appointment.objects.values_list("patient_id", flat=True).get(pk=appointment_id)
    patient = patient_lock(patient_id)
    if (earlier := replay(actor, key)) is not None:
        return earlier
    # Under the patient lock nothing else changes this patient's appointments.
    current = Appointment.objects.get(pk=appointment_id)
    slots = slots_lock(current.slot_id, slot_id)
    slot = slots[slot_id]
    referrals = referrals_for(patient, slot)
    now = timezone.now()
    _check_move(patient, actor, current, slot, now, referrals)
    _end_moved(current, now)
    moved = appointment_claim(actor, patient, slot, key)
    referral_carry(from_appointment_id=current.pk, to_appointment_id=moved.pk)
    extra = {"device": device} if device else {}
    audit_record(
        AuditAction.APPOINTMENT_CANCELLED,
        actor=actor,
        ip=ip,
        patient=patient,
        appointment=current.pk,
        ticket=current.ticket_number,
        rescheduled_to=moved.pk,
        **extra,
    )
    audit_record(
        AuditAction.APPOINTMENT_BOOKED,
        actor=actor,
        ip=ip,
        patient=patient,
        appointment=moved.pk,
        ticket=moved.ticket_number,
        doctor=slot.doctor_id,
        starts_at=slot.starts_at.isoformat(),
        rescheduled_from=current.pk,
        **extra,
    )
    # One event for one move, in this transaction: the listeners stop the old time's
    # reminders and plan the new one's, and the patient hears «перенесена с … на …» once.
    announce(appointment_moved, old=current, new=moved)
    transaction.on_commit(partial(cancel_logged, current.pk, "patient"))
    transaction.on_commit(partial(booking_logged, moved.pk, moved.ticket_number))
    announce_after_commit(
        cancellation_committed, appointment=current, slot_freed=True, by_clinic=False
    )
    return BookingResult(moved, created=True)


def appointment_reschedule(
    *,
    actor: User,
    appointment: Appointment,
    new_slot_id: int,
    idempotency_key: uuid.UUID,
    ip: str | None = None,
    device: str | None = None,
) -> BookingResult:
    """Move ``appointment`` (fetched with `appointment_get_for_user`) to ``new_slot_id``:
    the new slot booked and the old one freed in one transaction, with the booking's locks,
    checks and replay. If the new time cannot be had, the original stays as it was.

    Raises BookingRefused with a code of errors.ERRORS; never a database error.
    """
    if new_slot_id == appointment.slot_id:
        raise BookingRefused("reschedule_same_slot")
    return claiming(
        actor,
        new_slot_id,
        idempotency_key,
        partial(
            _reschedule,
            actor=actor,
            appointment_id=appointment.pk,
            slot_id=new_slot_id,
            key=idempotency_key,
            ip=ip,
            device=device,
        ),
    )


# --- cancellation --------------------------------------------------------------------


@dataclass(frozen=True)
class Cancellation:
    """Who cancels, and what that means: the patient's and the clinic's differ only here."""

    status: str  # the appointment's new status
    too_late: str  # the refusal code once the appointment has started
    slot_to: str  # the slot's new status: free again, or blocked
    action: AuditAction
    by: str  # for the log
    reason: str = ""
    check_actor: Callable[[User, Appointment], None] | None = None


def _lock_for_cancel(appointment_id: int) -> tuple[Appointment, Patient]:
    """The booking's lock order for an existing appointment: its patient, then its slot.

    Its status is not trusted here: the conditional UPDATE under the locks decides.
    """
    current = Appointment.objects.select_related("slot__doctor").get(pk=appointment_id)
    patient = patient_lock(current.patient_id)
    slot_lock(current.slot_id)
    return current, patient


def cancel_logged(appointment_id: int, by: str) -> None:
    # Where the notifications outbox tells the patient; never before the commit.
    logger.info("appointment %s cancelled by the %s", appointment_id, by)


@transaction.atomic(durable=True)
def _cancel(
    *, actor: User, appointment_id: int, how: Cancellation, ip: str | None, **details: object
) -> Appointment:
    lock_timeout_set()
    current, patient = _lock_for_cancel(appointment_id)
    return cancel_locked(actor=actor, current=current, patient=patient, how=how, ip=ip, **details)


def cancel_locked(
    *,
    actor: User,
    current: Appointment,
    patient: Patient,
    how: Cancellation,
    ip: str | None,
    **details: object,
) -> Appointment:
    """The cancellation itself. Expects the patient and slot locks of ``current``."""
    if how.check_actor is not None:
        how.check_actor(actor, current)
    now = timezone.now()
    if current.starts_at <= now:
        raise BookingRefused(how.too_late)
    # Conditional UPDATE: only an active appointment ends, and only once.
    ended = Appointment.objects.filter(pk=current.pk, status=Appointment.Status.BOOKED).update(
        status=how.status, cancelled_at=now, cancel_reason=how.reason
    )
    if ended != 1:
        raise BookingRefused("cancel_not_active")
    Slot.objects.filter(pk=current.slot_id, status=Slot.Status.BOOKED).update(status=how.slot_to)
    audit_record(
        how.action,
        actor=actor,
        ip=ip,
        patient=patient,
        appointment=current.pk,
        ticket=current.ticket_number,
        **details,
    )
    referral_give_back(appointment_id=current.pk, actor=actor, patient=patient, ip=ip)
    by_clinic = how.status == Appointment.Status.CANCELLED_CLINIC
    announce(appointment_cancelled, appointment=current, by_clinic=by_clinic, reason=how.reason)
    transaction.on_commit(partial(cancel_logged, current.pk, how.by))
    announce_after_commit(
        cancellation_committed,
        appointment=current,
        slot_freed=how.slot_to == Slot.Status.FREE,
        by_clinic=by_clinic,
    )
    current.refresh_from_db()
    return current


def appointment_cancel(
    *,
    actor: User,
    appointment: Appointment,
    ip: str | None = None,
    device: str | None = None,
    reason: str = "",
) -> Appointment:
    """Cancel an appointment the caller fetched with `appointment_get_for_user` (or, at the
    registry, `appointment_get_for_staff`: the patient asked the clinic to cancel it, with
    ``reason`` «по просьбе пациента»).

    The slot is free again at once: another patient may take the time right away.
    """
    how = Cancellation(
        status=Appointment.Status.CANCELLED_PATIENT,
        too_late="cancel_too_late",
        slot_to=Slot.Status.FREE,
        action=AuditAction.APPOINTMENT_CANCELLED,
        by="patient",
        reason=reason.strip(),
    )
    with busy_on_lock_timeout(busy):
        details: dict[str, object] = {"device": device} if device else {}
        if how.reason:
            details["reason"] = how.reason
        return _cancel(actor=actor, appointment_id=appointment.pk, how=how, ip=ip, **details)


def clinic_actor_check(actor: User, appointment: Appointment) -> None:
    """Staff change only the clinics of their scope (`staff.permissions`: a clerk's
    or head's own clinic, every clinic for the regional operator); a superuser any."""
    if actor.is_superuser:
        return
    if not staff_may_manage_clinic(actor, appointment.slot.doctor.clinic_id):
        raise BookingRefused("clinic_cancel_foreign")


def clinic_cancellation(reason: str, *, slot_to: str | None = None) -> Cancellation:
    """The clinic's cancel with ``reason``: by one appointment (the slot freed for the next
    patient, ``slot_to=FREE``), or of a time the doctor no longer works — an absence or a
    schedule change — where the slot is blocked."""
    return Cancellation(
        status=Appointment.Status.CANCELLED_CLINIC,
        too_late="clinic_cancel_past",
        slot_to=slot_to or Slot.Status.BLOCKED,
        action=AuditAction.APPOINTMENT_CANCELLED_BY_CLINIC,
        by="clinic",
        reason=reason,
        check_actor=clinic_actor_check,
    )


def appointment_cancel_by_clinic(
    *,
    actor: User,
    appointment: Appointment,
    reason: str,
    free_slot: bool = True,
    ip: str | None = None,
) -> Appointment:
    """The clinic cancels an appointment, saying why (the patient reads it on the ticket).

    ``free_slot=False`` when the doctor will not receive at that time (an absence): the
    slot is blocked instead of offered to the next patient. Same locks and refusals as
    the patient's cancellation; staff of another clinic are refused.
    """
    reason = reason.strip()
    if not reason:
        raise BookingRefused("clinic_cancel_no_reason")
    how = clinic_cancellation(reason, slot_to=Slot.Status.FREE if free_slot else None)
    with busy_on_lock_timeout(busy):
        return _cancel(
            actor=actor,
            appointment_id=appointment.pk,
            how=how,
            ip=ip,
            reason=reason,
            slot_freed=free_slot,
        )


# --- attendance (the clinic workspace, docs/workspace.md) -----------------------------
# Marking attended / no-show writes Appointment.status, so it lives here with the other
# writers of booking state and takes the same locks in the same order
# (docs/concurrency.md): the patient row, then the slot row. The slot stays booked: the
# time was used (or wasted) either way.

ATTENDANCE_MARKABLE = (
    Appointment.Status.BOOKED,
    Appointment.Status.ATTENDED,
    Appointment.Status.NO_SHOW,
)


@transaction.atomic(durable=True)
def _mark_attendance(
    *, actor: User, appointment_id: int, attended: bool, ip: str | None
) -> Appointment:
    lock_timeout_set()
    current = Appointment.objects.get(pk=appointment_id)
    patient = patient_lock(current.patient_id)
    slot_lock(current.slot_id)
    if current.starts_at > timezone.now():
        raise BookingRefused("attendance_too_early")
    new_status = Appointment.Status.ATTENDED if attended else Appointment.Status.NO_SHOW
    # A correction (attended <-> no-show) is allowed; a cancelled appointment stays so.
    changed = Appointment.objects.filter(pk=current.pk, status__in=ATTENDANCE_MARKABLE).update(
        status=new_status
    )
    if changed != 1:
        raise BookingRefused("attendance_not_active")
    audit_record(
        AuditAction.APPOINTMENT_ATTENDED if attended else AuditAction.APPOINTMENT_NO_SHOW,
        actor=actor,
        ip=ip,
        patient=patient,
        appointment=current.pk,
        ticket=current.ticket_number,
    )
    current.refresh_from_db()
    return current


def appointment_mark_attendance(
    *, actor: User, appointment: Appointment, attended: bool, ip: str | None = None
) -> Appointment:
    """Mark an appointment attended or no-show once it has started.

    The caller has checked that ``actor`` may manage the appointment's clinic
    (`workspace.permissions.appointment_get_for_staff`).
    """
    with busy_on_lock_timeout(busy):
        return _mark_attendance(
            actor=actor, appointment_id=appointment.pk, attended=attended, ip=ip
        )
