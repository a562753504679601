"""The waitlist listens to the booking service (`scheduling.events`), after its commit:
a clinic's cancel offers the patient another time, and every freed or newly opened time
goes to the waitlist first (docs/waitlist.md). The booking stands whatever happens here."""

from collections.abc import Iterable
from typing import Any

from django.dispatch import receiver

from portal.scheduling.events import cancellation_committed, slots_opened
from portal.scheduling.models import Appointment
from portal.waitlist import services as waitlist


@receiver(cancellation_committed, dispatch_uid="waitlist.cancellation")
def offers_after_cancel(
    sender: object, *, appointment: Appointment, slot_freed: bool, by_clinic: bool, **facts: Any
) -> None:
    # The rebook offer first: the patient the clinic let down is held a time before the
    # freed one is offered to the line.
    if by_clinic:
        waitlist.rebook_offer_make(appointment=appointment)
    if slot_freed:
        waitlist.slot_freed(appointment.slot_id)


@receiver(slots_opened, dispatch_uid="waitlist.opened")
def offers_for_opened(sender: object, *, slot_ids: Iterable[int], **facts: Any) -> None:
    waitlist.slots_freed(slot_ids)
