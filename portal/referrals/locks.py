"""The referral row lock: lock 3 of a booking by referral, after the patient's and the
slot's (docs/concurrency.md). The policy — timeouts, order — is `core.locking`'s."""

from collections.abc import Collection

from portal.core.locking import require_transaction
from portal.referrals.models import Referral


def referrals_lock(patient_id: int, specialty_id: int) -> list[Referral]:
    """Lock the patient's referrals to this specialty that a booking or a move could use
    or carry, in id order. Without it a clinic's cancel of a referral could land between
    the booking's check and its write, and a referral cancelled in error would still be
    used (tests/referrals/test_races.py)."""
    require_transaction()
    return list(
        Referral.objects.select_for_update(of=("self",))
        .filter(
            patient_id=patient_id,
            specialty_id=specialty_id,
            status__in=(Referral.Status.ACTIVE, Referral.Status.USED),
        )
        .order_by("pk")
    )


def referral_lock(referral_id: int) -> Referral | None:
    """One referral, for the clinic's cancel (it takes no other lock)."""
    require_transaction()
    return Referral.objects.select_for_update(of=("self",)).filter(pk=referral_id).first()


def referrals_lock_of_patients(patient_ids: Collection[int], specialty_id: int) -> list[Referral]:
    """`referrals_lock` for many patients at once (a fair-release draw's bookings), in id
    order, in one statement: lock 3, after the patients' and the slots'."""
    require_transaction()
    return list(
        Referral.objects.select_for_update(of=("self",))
        .filter(
            patient_id__in=set(patient_ids),
            specialty_id=specialty_id,
            status__in=(Referral.Status.ACTIVE, Referral.Status.USED),
        )
        .order_by("pk")
    )
