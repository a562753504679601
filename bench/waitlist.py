"""Waitlist phase of `make bench` (issue 14), also runnable alone:

    uv run python -m bench.waitlist      # on the bench database, like `make bench`

A freed slot is matched against ENTRIES waiting entries, all for the slot's clinic and
specialty (the worst case: one queue), a fifth of them for later dates and a fifth
for evenings only, so the query has to skip rows. Three figures, each run ROUNDS times
on distinct free slots, in one run, alternating so the machine's drift hits all alike:

1. baseline: a bare indexed query of the same queue (raw SQL, the first 20 waiting);
2. matching: `selectors.entries_matching_slot` + the booking rules re-checked for the
   first candidate (what `slot_freed` reads before it writes); target p95 < 20 ms;
3. the whole `slot_freed`: matching, the hold under the slot lock, the offer, its
   audit event and notification rows, the commit.

The bench's own entries and offers are removed at the end (a fixture of the bench
database, like `dataset.bench_reset`).
"""

import datetime
import itertools
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.stats import percentile, ratio

ENTRIES = int(os.environ.get("BENCH_WAITLIST_ENTRIES", "10000"))
ROUNDS = int(os.environ.get("BENCH_WAITLIST_ROUNDS", "200"))
WARM_UP = 10
PREFIX = "bench-wl-"
TARGET_P95_MS = 20.0
Log = Callable[[str], None]


@dataclass
class WaitlistResult:
    entries: int = 0
    baseline: list[float] = field(default_factory=list)  # seconds
    matching: list[float] = field(default_factory=list)
    slot_freed: list[float] = field(default_factory=list)
    offers: int = 0

    @staticmethod
    def ms(values: list[float], pct: float) -> float:
        return percentile(values, pct) * 1000

    def line(self, name: str, values: list[float]) -> str:
        return (
            f"{name}: p50 {self.ms(values, 50):.2f} ms, p95 {self.ms(values, 95):.2f} ms, "
            f"×{ratio(self.ms(values, 95), self.ms(self.baseline, 95)):.1f} of the baseline"
        )


def _queue_setup(log: Log) -> tuple[Any, list[Any]]:
    """ENTRIES bench citizens waiting at one clinic for one adult specialty."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from portal.demo.dates import born
    from portal.directory.models import Doctor, Specialty
    from portal.patients.models import Patient, PolicyKind
    from portal.waitlist.models import WaitlistEntry

    now = timezone.now()
    # A clinic with two doctors of one direct, all-ages or adult specialty and free slots.
    doctors = (
        Doctor.objects.filter(
            is_active=True,
            specialty__access=Specialty.Access.DIRECT,
            clinic__kind__in=["adult", "mixed"],
        )
        .exclude(specialty__age_group=Specialty.AgeGroup.CHILDREN)
        .select_related("clinic", "specialty")
        .order_by("pk")
    )
    for doctor in doctors:
        if len(_offerable_slots(doctor, now)) >= ROUNDS + WARM_UP:
            break
    else:
        raise SystemExit("bench.waitlist: no doctor with enough free slots")
    User = get_user_model()
    _cleanup()
    today = timezone.localdate()
    with transaction.atomic():
        users = User.objects.bulk_create(
            User(username=f"{PREFIX}{n:05d}", esia_oid=f"{PREFIX}{n}") for n in range(ENTRIES)
        )
        patients = Patient.objects.bulk_create(
            Patient(
                user=user,
                esia_oid=user.esia_oid,
                last_name="Ожидающий",
                first_name="Тест",
                middle_name=f"№{n}",
                birth_date=born(30, n % 3000),
                sex="M",
                clinic=doctor.clinic,
                policy_kind=PolicyKind.UNIFIED,
                policy_number=f"9{n:015d}",
                email="bench-waitlist@example.ru",
            )
            for n, user in enumerate(users)
        )
        WaitlistEntry.objects.bulk_create(
            WaitlistEntry(
                patient=patient,
                created_by=user,
                clinic=doctor.clinic,
                specialty=doctor.specialty,
                times="evening" if n % 5 == 2 else "",
                # A fifth wait for later dates than any slot there is.
                date_from=today + datetime.timedelta(days=45 if n % 5 == 1 else 0),
                date_to=today + datetime.timedelta(days=60),
            )
            for n, (patient, user) in enumerate(zip(patients, users, strict=True))
        )
    from django.db import connection

    with connection.cursor() as cursor:
        # Planner statistics for 10 000 new rows, as autovacuum would have them soon.
        for table in ("identity_user", "patients_patient", "waitlist_waitlistentry"):
            cursor.execute(f"ANALYZE {table}")
    log(f"waitlist: {ENTRIES} entries for {doctor.specialty.name} at {doctor.clinic.short_name}")
    return doctor, _offerable_slots(doctor, now)


def _offerable_slots(doctor: Any, now: datetime.datetime) -> list[Any]:
    """The doctor's first free slots that the waitlist would offer now: a slot starting
    within the offer's margin is free but too soon to offer (`offer_expiry`), and in the
    early afternoon the day's first slots are."""
    from portal.scheduling.models import Slot
    from portal.scheduling.selectors import bookable_q
    from portal.waitlist.services import offer_expiry

    slots = (
        Slot.objects.filter(bookable_q(now), doctor=doctor)
        .select_related("doctor__clinic", "doctor__specialty")
        .order_by("starts_at")
    )
    wanted = ROUNDS + WARM_UP
    return list(
        itertools.islice((s for s in slots.iterator() if offer_expiry(s.starts_at, now)), wanted)
    )


def _cleanup() -> None:
    """Remove what the phase wrote: offers, their messages and holds, entries, people.

    Plain DELETEs: the ORM's cascade collector would walk every table that points at a
    user or a patient for 10 000 rows, and these people have nothing else. The journal
    is append-only through the ORM; the bench database is a fixture.
    """
    from django.db import connection

    people = (
        "SELECT p.id FROM patients_patient p JOIN identity_user u ON u.id = p.user_id "
        "WHERE u.username LIKE %s"
    )
    statements = [
        f"UPDATE scheduling_slot SET held_for_id = NULL, held_until = NULL "
        f"WHERE held_for_id IN ({people})",
        f"DELETE FROM notifications_message WHERE recipient_id IN ({people})",
        f"DELETE FROM waitlist_offer WHERE patient_id IN ({people})",
        f"DELETE FROM waitlist_waitlistentry WHERE patient_id IN ({people})",
        f"DELETE FROM audit_auditevent WHERE patient_id IN ({people})",
        f"DELETE FROM patients_patient WHERE id IN ({people})",
        "DELETE FROM identity_user WHERE username LIKE %s",
    ]
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, [PREFIX + "%"])


BASELINE_SQL = (
    "SELECT id FROM waitlist_waitlistentry WHERE clinic_id = %s AND specialty_id = %s "
    "AND status = 'waiting' ORDER BY created_at, id LIMIT 20"
)


def run_waitlist_phase(log: Log) -> WaitlistResult:
    from django.db import connection
    from django.utils import timezone

    from portal.waitlist import selectors, services
    from portal.waitlist.models import Offer

    result = WaitlistResult(entries=ENTRIES)
    doctor, slots = _queue_setup(log)
    try:
        for n, slot in enumerate(slots):
            began = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(BASELINE_SQL, [doctor.clinic_id, doctor.specialty_id])
                cursor.fetchall()
            baseline = time.perf_counter() - began

            began = time.perf_counter()
            candidates = selectors.entries_matching_slot(slot, limit=services.MATCH_BATCH)
            first = candidates[0]
            refusal = services._slot_refusal_for(first.patient, first.patient.user_id, slot)
            matching = time.perf_counter() - began
            assert refusal is None, refusal

            began = time.perf_counter()
            offer = services.slot_freed(slot.pk)
            freed = time.perf_counter() - began
            assert offer is not None and offer.entry_id == first.pk
            if n < WARM_UP:
                continue
            result.baseline.append(baseline)
            result.matching.append(matching)
            result.slot_freed.append(freed)
        result.offers = Offer.objects.filter(
            patient__user__username__startswith=PREFIX, expires_at__gt=timezone.now()
        ).count()
    finally:
        _cleanup()
    log(result.line("waitlist baseline (indexed query)", result.baseline))
    log(result.line("waitlist matching (read + re-check)", result.matching))
    log(result.line("waitlist slot_freed (whole offer)", result.slot_freed))
    return result


def main() -> int:
    from bench.run import _database_create, _environment, log

    env = _environment()
    _database_create(env["DATABASE_URL"])
    import django

    django.setup()
    from bench import dataset

    dataset.dataset_ensure(1, Path(env["PORTAL_DATA_DIR"]) / "dataset-waitlist.json", env, log)
    result = run_waitlist_phase(log)
    p95 = result.ms(result.matching, 95)
    print(
        f"\nwaitlist, {result.entries} entries in one queue, {len(result.matching)} freed slots:\n"
        f"  {result.line('baseline: bare indexed query', result.baseline)}\n"
        f"  {result.line('matching: read + re-check', result.matching)} "
        f"(target p95 < {TARGET_P95_MS:.0f} ms: {'ok' if p95 < TARGET_P95_MS else 'MISSED'})\n"
        f"  {result.line('slot_freed: the whole offer', result.slot_freed)}\n"
        f"  offers made: {result.offers}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
