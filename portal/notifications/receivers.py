"""The notifications listen to the booking service (`scheduling.events`): what is to be
told is written to the outbox inside the booking's transaction (a booking: one `Event`,
its messages written by a worker), so a rolled-back booking sends nothing and a committed
one is never silent (docs/notifications.md)."""

from typing import Any

from django.dispatch import receiver

from portal.notifications.polling import appointment_booked_notify, appointments_booked_events
from portal.notifications.referrals import referral_cancelled_notify
from portal.notifications.services import (
    appointment_cancelled_by_clinic_notify,
    appointment_cancelled_notify,
    appointment_moved_notify,
)
from portal.referrals.events import referral_cancelled
from portal.referrals.models import Referral
from portal.scheduling.events import (
    appointment_booked,
    appointment_cancelled,
    appointment_moved,
    appointments_booked,
)
from portal.scheduling.models import Appointment


@receiver(appointment_booked, dispatch_uid="notifications.booked")
def booked(sender: object, *, appointment: Appointment, **facts: Any) -> None:
    appointment_booked_notify(appointment)


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
