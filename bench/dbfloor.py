"""The database floor: the booking transaction as raw SQL through psycopg.

The same statements, in the same round trips, that `appointment_book` sends for a patient
with e-mail and phone on PostgreSQL (tests/scheduling/test_booking_statements.py counts
them): the slot's glance before the transaction; BEGIN; the patient lock with the lock
timeout set in its statement; the slot lock with its doctor, clinic and specialty and the
patient's active appointments; the claim with the appointment's INSERT and the outbox's
event (one statement); the audit row; COMMIT. Like for like: the booking prepares each of
these statements on the server once per connection (`core.rows.prepared`), so this floor
does too (psycopg's ``prepare=True``, server-side binding); the bookings then cost the
database binding and running, never planning (docs/performance.md, «The booking's
statements prepared»). Run by as many threads as the HTTP phase has clients: what the HTTP
figure loses against this is Django + gunicorn.
"""

import datetime
import queue
import secrets
import threading
import time
import uuid
from dataclasses import dataclass

import psycopg
from psycopg.types.json import Jsonb

from bench.stats import Run
from portal.audit.models import AuditEvent
from portal.directory.models import Clinic, Doctor, Specialty
from portal.notifications.models import Event
from portal.patients.models import Patient
from portal.scheduling.models import Appointment, Slot

PATIENT = Patient._meta.db_table
CLINIC = Clinic._meta.db_table
SLOT = Slot._meta.db_table
DOCTOR = Doctor._meta.db_table
SPECIALTY = Specialty._meta.db_table
APPOINTMENT = Appointment._meta.db_table
AUDIT = AuditEvent._meta.db_table
EVENT = Event._meta.db_table

GLANCE = (
    "SELECT s.starts_at, s.status, s.opens_at, s.held_for_id, s.held_until, d.is_active "
    f"FROM {SLOT} s JOIN {DOCTOR} d ON d.id = s.doctor_id WHERE s.id = %s"
)
# The lock timeout set in the lock's own statement, before the lock is asked for
# (`patients.locks.patient_lock_fresh`).
LOCK_PATIENT = (
    "SELECT p.user_id, p.birth_date, p.policy_number, p.clinic_id, p.area "
    f"FROM {PATIENT} p, (SELECT set_config('lock_timeout', '5000ms', true)) lock_timeout "
    "WHERE p.id = %s FOR UPDATE OF p"
)
LOCK_SLOT = (
    # The slot first: its times and the doctor's specialty are what the writes use.
    "SELECT s.starts_at, s.ends_at, d.specialty_id, s.id, s.doctor_id, s.status, "
    "s.opens_at, s.held_for_id, s.held_until, d.id, d.clinic_id, d.last_name, "
    "d.first_name, d.middle_name, d.room, d.area, d.is_active, c.id, c.district_id, "
    "c.full_name, c.short_name, c.address, c.phone, c.hours, c.kind, sp.id, sp.code, "
    "sp.name, sp.access, sp.age_group, a.id, a.specialty_id, a.starts_at, a.ends_at "
    f"FROM {SLOT} s JOIN {DOCTOR} d ON d.id = s.doctor_id "
    f"JOIN {CLINIC} c ON c.id = d.clinic_id JOIN {SPECIALTY} sp ON sp.id = d.specialty_id "
    f"LEFT JOIN {APPOINTMENT} a ON a.patient_id = %s AND a.status = 'booked' "
    "AND a.ends_at > %s WHERE s.id = %s FOR UPDATE OF s"
)
# The claim, the appointment's INSERT and the outbox's event in one statement, as
# `booking.appointment_claim` sends them on PostgreSQL (data-modifying CTEs).
CLAIM_INSERT = (
    f"WITH claimed AS (UPDATE {SLOT} SET status = 'booked', held_for_id = NULL, "
    "held_until = NULL WHERE id = %s AND status = 'free' RETURNING id), "
    f"booked AS (INSERT INTO {APPOINTMENT} (slot_id, patient_id, booked_by_id, specialty_id, "
    "starts_at, ends_at, status, ticket_number, idempotency_key, created_at, cancelled_at, "
    "comment, reason, cancel_reason, arrived_at) "
    "SELECT %s, %s, %s, %s, %s, %s, 'booked', %s, %s, now(), NULL, '', '', '', NULL "
    "FROM claimed RETURNING id, ticket_number), "
    f"c0 AS (INSERT INTO {EVENT} (kind, appointment_id, created_at) "
    "SELECT 'booked', booked.id, now() FROM booked RETURNING id) "
    "SELECT booked.id, c0.id FROM booked, c0"
)
AUDIT_INSERT = (
    f"INSERT INTO {AUDIT} (created_at, user_id, patient_id, action, details, ip) "
    "VALUES (now(), %s, %s, 'appointment.booked', %s, NULL) RETURNING id"
)


@dataclass(frozen=True)
class Job:
    user_id: int
    patient_id: int
    slot_id: int


def book_raw(conn: psycopg.Connection, job: Job) -> bool:
    """One booking; False when the slot was taken (never expected on distinct slots).
    ``conn`` must be in autocommit, as Django's is, so that ``conn.transaction()`` is
    BEGIN … COMMIT and not a savepoint. Every statement is bound on the server and
    prepared once per connection, as the booking's are (whatever ``conn``'s cursor class)."""
    key = uuid.uuid4()
    with psycopg.Cursor(conn) as cur:
        cur.execute(GLANCE, [job.slot_id], prepare=True).fetchone()
    with conn.transaction(), psycopg.Cursor(conn) as cur:
        cur.execute(LOCK_PATIENT, [job.patient_id], prepare=True).fetchone()
        now = datetime.datetime.now(datetime.UTC)
        row = cur.execute(LOCK_SLOT, [job.patient_id, now, job.slot_id], prepare=True).fetchone()
        if row is None:
            return False
        starts_at, ends_at, specialty_id = row[:3]
        ticket = "".join(secrets.choice("0123456789") for _ in range(12))
        cur.execute(
            CLAIM_INSERT,
            [job.slot_id, job.slot_id, job.patient_id, job.user_id, specialty_id,
             starts_at, ends_at, ticket, key],
            prepare=True,
        )  # fmt: skip
        inserted = cur.fetchone()
        if inserted is None:
            return False
        details = {"appointment": inserted[0], "ticket": ticket, "slot": job.slot_id}
        details_param = Jsonb(details)
        cur.execute(AUDIT_INSERT, [job.user_id, job.patient_id, details_param], prepare=True)
        cur.fetchone()
    return True


def run_db_floor(dsn: str, jobs: list[Job], *, concurrency: int, time_limit: float) -> Run:
    run = Run("database floor: booking as raw SQL")
    pending: queue.SimpleQueue[Job] = queue.SimpleQueue()
    for job in jobs:
        pending.put(job)
    deadline = time.perf_counter() + time_limit
    lock = threading.Lock()

    def worker() -> None:
        # autocommit, as Django's connection: the glance runs on its own and each booking
        # is its own BEGIN … COMMIT. Without it the first glance opened a transaction that
        # lasted the whole run, and every booking was a SAVEPOINT inside it, committed
        # only at the end.
        with psycopg.connect(dsn, autocommit=True) as conn:
            while time.perf_counter() < deadline:
                try:
                    job = pending.get_nowait()
                except queue.Empty:
                    return
                started = time.perf_counter()
                try:
                    ok = book_raw(conn, job)
                    status = 200 if ok else 409
                except psycopg.Error:
                    status = 500
                with lock:
                    run.record(status, time.perf_counter() - started)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.duration = time.perf_counter() - started
    return run
