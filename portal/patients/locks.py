"""The patient row lock: lock 1 of every writer of a patient's bookings, requests and
relatives (docs/concurrency.md). The policy — timeouts, order — is `core.locking`'s."""

import copy
from collections.abc import Collection
from functools import cache

from django.db import connection

from portal.core import rows
from portal.core.locking import lock_timeout_statement, require_transaction
from portal.patients.models import Patient

# What the booking rules decide on: age and own account (`patients.rules`), the policy,
# the attachment and the area (`scheduling.rules`).
RULE_COLUMNS = rows.Shape(Patient, "p", ("user", "birth_date", "policy_number", "clinic", "area"))


def patient_lock(patient_id: int) -> Patient:
    """Serialise one patient's writes: the per-patient rules (one per specialty, no
    overlap, one request per ballot, the guardians' limit) read other rows, and without
    this lock two requests could both pass them and both write."""
    require_transaction()
    return (
        Patient.objects.select_for_update(of=("self",)).select_related("clinic").get(pk=patient_id)
    )


@cache
def _rule_columns_sql(vendor: str, timeout_first: bool) -> str:
    """The lock's one statement; with ``timeout_first`` on PostgreSQL the lock timeout is
    set in it too: its one-row subquery (a volatile function: never pulled up nor skipped)
    is joined, in whichever order, before the row reaches the plan's LockRows, so the
    timeout is in force before the lock is asked for — one round trip, and one fixed text
    to prepare (docs/concurrency.md, «Timeout»)."""
    table = rows.quoted(Patient._meta.db_table)
    timeout = lock_timeout_statement() if timeout_first else None
    source = f"{table} p" if timeout is None else f"{table} p, ({timeout[0]}) lock_timeout"
    del vendor  # part of the key: FOR UPDATE and the timeout are PostgreSQL's only
    return f"SELECT {RULE_COLUMNS.sql()} FROM {source} WHERE p.id = %s {rows.for_update('p')}"


def patient_lock_fresh(patient: Patient, *, timeout_first: bool = False) -> Patient:
    """`patient_lock` for a writer that already holds the patient's row (the booking:
    the request's acting patient), in one narrow statement: the row lock and the
    columns the rules decide on, read again under it. Returns a copy of ``patient``
    with those as locked; names and contacts (for the messages) are the caller's.
    Raises Patient.DoesNotExist as `patient_lock` does.

    ``timeout_first``: the transaction's first lock, so `core.locking.lock_timeout_set`
    comes first — on PostgreSQL inside the lock's own statement (`_rule_columns_sql`),
    prepared once per connection (`core.rows.prepared`); SQLite has no lock timeout.
    """
    require_transaction()
    timeout = lock_timeout_statement() if timeout_first else None
    sql = _rule_columns_sql(connection.vendor, timeout is not None)
    params = [*(timeout[1] if timeout is not None else []), patient.pk]
    with rows.prepared() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        raise Patient.DoesNotExist(f"patient {patient.pk}")
    fresh = copy.copy(patient)
    # The row's columns only, as a fresh read would give them: what the caller loaded
    # with it (a saved preference, say) would change what the booking writes — the outbox
    # applies preferences it finds loaded (`notifications.selectors.preference_known`).
    fresh._state.fields_cache = {}
    fresh.__dict__.pop("_prefetched_objects_cache", None)
    for name, value in RULE_COLUMNS.values(row).items():
        setattr(fresh, name, value)
    return fresh


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
