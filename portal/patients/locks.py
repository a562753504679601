"""The patient row lock: lock 1 of every writer of a patient's bookings, requests and
relatives (docs/concurrency.md). The policy — timeouts, order — is `core.locking`'s."""

from collections.abc import Collection

from portal.core.locking import require_transaction
from portal.patients.models import Patient


def patient_lock(patient_id: int) -> Patient:
    """Serialise one patient's writes: the per-patient rules (one per specialty, no
    overlap, one request per ballot, the guardians' limit) read other rows, and without
    this lock two requests could both pass them and both write."""
    require_transaction()
    return (
        Patient.objects.select_for_update(of=("self",)).select_related("clinic").get(pk=patient_id)
    )


def patients_lock_nowait(patient_ids: Collection[int], into: dict[int, Patient]) -> None:
    """Patients found only under later locks (out of the usual order): never wait for
    them, so a booking in flight is not deadlocked; the caller is retried instead."""
    require_transaction()
    wanted = sorted(set(patient_ids) - into.keys())
    if not wanted:
        return
    locked = Patient.objects.select_for_update(of=("self",), nowait=True).filter(pk__in=wanted)
    into.update({patient.pk: patient for patient in locked.order_by("pk")})


def patients_lock_in_order(patient_ids: Collection[int]) -> dict[int, Patient]:
    """Lock 1 for a writer that acts for many patients at once (a fair-release draw's
    bookings): every row in ascending id order, in one statement, so it never waits in a
    cycle with a booking (one patient) or another such writer. Time-boxed like the others."""
    require_transaction()
    locked = (
        Patient.objects.select_for_update(of=("self",))
        .select_related("clinic")
        .filter(pk__in=set(patient_ids))
        .order_by("pk")
    )
    return {patient.pk: patient for patient in locked}
