"""The slot row lock: lock 2 of every writer of booking state (docs/concurrency.md),
after the patient's (`patients.locks`). The policy — timeouts, order — is `core.locking`'s."""

from portal.core.locking import require_transaction
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Slot


def slot_lock(slot_id: int) -> Slot:
    """Lock 2 of 2: the slot row. Raises slot_taken for an unknown slot (nothing to reveal)."""
    require_transaction()
    slot = (
        Slot.objects.select_for_update(of=("self",))
        .select_related("doctor__clinic", "doctor__specialty")
        .filter(pk=slot_id)
        .first()
    )
    if slot is None:
        raise BookingRefused("slot_taken")
    return slot


def slots_lock(*slot_ids: int) -> dict[int, Slot]:
    """Lock 2 for a writer that needs two slots: in id order, so two such writers never
    wait on each other in a cycle (a booking or a cancel locks one slot only)."""
    return {slot_id: slot_lock(slot_id) for slot_id in sorted(slot_ids)}
