"""Holds: a free slot kept for one patient (an offer) or for a fair-release draw, so no
one else books it meanwhile (docs/concurrency.md, docs/fair-release.md)."""

import datetime

from django.db import models, transaction
from django.utils import timezone

from portal.core.locking import busy_on_lock_timeout, lock_timeout_set
from portal.scheduling import rules
from portal.scheduling.errors import busy
from portal.scheduling.models import Slot
from portal.scheduling.slot_locks import slot_lock

# --- holds: a free slot kept for one patient (docs/concurrency.md) ----------------------


@transaction.atomic
def slot_hold(*, slot_id: int, patient_id: int, until: datetime.datetime) -> bool:
    """Hold a free, open slot for ``patient_id`` until ``until``; False if it is taken,
    blocked, past or already held for someone else (the caller offers another one).

    Under the slot lock, so a hold and a booking of the same slot cannot both win.
    """
    lock_timeout_set()
    with busy_on_lock_timeout(busy):
        slot = slot_lock(slot_id)
    now = timezone.now()
    if rules.slot_refusal(slot, now) or rules.is_held_for_other(slot, patient_id, now):
        return False
    Slot.objects.filter(pk=slot.pk).update(held_for_id=patient_id, held_until=until)
    return True


def slot_hold_release(*, slot_id: int, patient_id: int) -> bool:
    """End ``patient_id``'s hold of a slot (declined, expired, or taken elsewhere);
    someone else's hold is left alone. True if a hold was released."""
    released = Slot.objects.filter(pk=slot_id, held_for_id=patient_id).update(
        held_for=None, held_until=None
    )
    return released == 1


# --- a fair-release draw's reservation: a hold for nobody (docs/fair-release.md) ---------


def slots_reserve_for_draw(*, slot_ids: list[int]) -> int:
    """Keep free slots for a draw until their own start: no search shows them and no one
    books them first-come (`rules.is_draw_reservation`); only
    `draw_booking.appointments_book_for_draw` takes them, and `slots_release_from_draw`
    lets the rest go. Returns how many are kept.

    One conditional UPDATE, no locks: a slot booked or held for a patient meanwhile is
    skipped (PostgreSQL re-checks the condition after a booking that holds the row commits).
    """
    now = timezone.now()
    return (
        Slot.objects.filter(pk__in=slot_ids, status=Slot.Status.FREE, starts_at__gt=now)
        .filter(models.Q(held_until__isnull=True) | models.Q(held_until__lte=now))
        .update(held_for=None, held_until=models.F("starts_at"))
    )


def slots_release_from_draw(*, slot_ids: list[int]) -> int:
    """End the draw's reservation of these slots (the draw is over, or cancelled): they are
    free for everyone at once. A patient's hold is never touched."""
    return Slot.objects.filter(
        pk__in=slot_ids, held_for__isnull=True, held_until__isnull=False
    ).update(held_until=None)
