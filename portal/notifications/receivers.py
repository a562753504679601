"""The notifications listen to the booking service (`scheduling.events`): what is to be
told is written to the outbox inside the booking's transaction (a booking: one `Event`,
in the claim's own statement on PostgreSQL, its messages written by a worker), so a
rolled-back booking sends nothing and a committed one is never silent
(docs/notifications.md)."""

from typing import Any

from django.dispatch import receiver

from portal.notifications.models import Event
from portal.notifications.polling import (
    appointments_booked_events,
    booked_event_new,
    booked_event_written,
)
from portal.notifications.referrals import referral_cancelled_notify
from portal.notifications.services import (
    appointment_cancelled_by_clinic_notify,
    appointment_cancelled_notify,
    appointment_moved_notify,
)
from portal.patients.models import Patient
from portal.referrals.events import referral_cancelled
from portal.referrals.models import Referral
from portal.scheduling.events import (
    appointment_booked,
    appointment_booking,
    appointment_cancelled,
    appointment_moved,
    appointments_booked,
)
from portal.scheduling.models import Appointment


@receiver(appointment_booking, dispatch_uid="notifications.booking")
def booking(sender: object, *, patient: Patient, **facts: Any) -> list[Event]:
    # Written by the booking with its appointment, in the claim's statement.
    event = booked_event_new(patient)
    return [event] if event is not None else []


@receiver(appointment_booked, dispatch_uid="notifications.booked")
def booked(sender: object, *, appointment: Appointment, written: list[Any], **facts: Any) -> None:
    booked_event_written([row for row in written if isinstance(row, Event)])


@receiver(appointments_booked, dispatch_uid="notifications.booked_together")
def booked_together(sender: object, *, appointments: list[Appointment], **facts: Any) -> None:
    appointments_booked_events(appointments)


@receiver(appointment_cancelled, dispatch_uid="notifications.cancelled")
def cancelled(
    sender: object, *, appointment: Appointment, by_clinic: bool, reason: str, **facts: Any
) -> None:
    if by_clinic:
        appointment_cancelled_by_clinic_notify(appointment, reason)
    else:
        appointment_cancelled_notify(appointment)


@receiver(referral_cancelled, dispatch_uid="notifications.referral_cancelled")
def referral_was_cancelled(sender: object, *, referral: Referral, **facts: Any) -> None:
    referral_cancelled_notify(referral)


@receiver(appointment_moved, dispatch_uid="notifications.moved")
def moved(sender: object, *, old: Appointment, new: Appointment, **facts: Any) -> None:
    appointment_moved_notify(old, new)
