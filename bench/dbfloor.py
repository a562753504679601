"""The database floor: the booking transaction as raw SQL through psycopg.

The same statements `appointment_book` sends (lock the patient, replay check, lock
the slot with its doctor/clinic/specialty, the two patient rules, the conditional
UPDATE, the appointment and audit INSERTs), run by as many threads as the HTTP
phase has clients. What the HTTP figure loses against this is Django + gunicorn.
"""

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
from portal.patients.models import Patient
from portal.scheduling.models import Appointment, Slot

PATIENT = Patient._meta.db_table
CLINIC = Clinic._meta.db_table
SLOT = Slot._meta.db_table
DOCTOR = Doctor._meta.db_table
SPECIALTY = Specialty._meta.db_table
APPOINTMENT = Appointment._meta.db_table
AUDIT = AuditEvent._meta.db_table

LOCK_PATIENT = (
    f"SELECT p.*, c.* FROM {PATIENT} p LEFT JOIN {CLINIC} c ON c.id = p.clinic_id "
    "WHERE p.id = %s FOR UPDATE OF p"
)
REPLAY = f"SELECT id FROM {APPOINTMENT} WHERE booked_by_id = %s AND idempotency_key = %s LIMIT 1"
LOCK_SLOT = (
    # The first three columns are used; the rest mirror select_related's full rows.
    "SELECT s.starts_at, s.ends_at, d.specialty_id, s.*, d.*, c.*, sp.* "
    f"FROM {SLOT} s JOIN {DOCTOR} d ON d.id = s.doctor_id "
    f"JOIN {CLINIC} c ON c.id = d.clinic_id JOIN {SPECIALTY} sp ON sp.id = d.specialty_id "
    "WHERE s.id = %s FOR UPDATE OF s"
)
SAME_SPECIALTY = (
    f"SELECT 1 FROM {APPOINTMENT} WHERE patient_id = %s AND status = 'booked' "
    "AND specialty_id = %s AND starts_at > now() LIMIT 1"
)
OVERLAP = (
    f"SELECT 1 FROM {APPOINTMENT} WHERE patient_id = %s AND status = 'booked' "
    "AND starts_at < %s AND ends_at > %s LIMIT 1"
)
TAKE = f"UPDATE {SLOT} SET status = 'booked' WHERE id = %s AND status = 'free'"
INSERT = (
    f"INSERT INTO {APPOINTMENT} (slot_id, patient_id, booked_by_id, specialty_id, starts_at, "
    "ends_at, status, ticket_number, idempotency_key, created_at, cancel_reason) "
    "VALUES (%s, %s, %s, %s, %s, %s, 'booked', %s, %s, now(), '') RETURNING id"
)
AUDIT_INSERT = (
    f"INSERT INTO {AUDIT} (created_at, user_id, patient_id, action, details, ip) "
    "VALUES (now(), %s, %s, 'appointment.booked', %s, '127.0.0.1')"
)


@dataclass(frozen=True)
class Job:
    user_id: int
    patient_id: int
    slot_id: int


def book_raw(conn: psycopg.Connection, job: Job) -> bool:
    """One booking; False when the slot was taken (never expected on distinct slots)."""
    key = uuid.uuid4()
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT set_config('lock_timeout', '5000ms', true)")
        cur.execute(LOCK_PATIENT, [job.patient_id]).fetchone()
        cur.execute(REPLAY, [job.user_id, key]).fetchone()
        row = cur.execute(LOCK_SLOT, [job.slot_id]).fetchone()
        if row is None:
            return False
        starts_at, ends_at, specialty_id = row[:3]
        cur.execute(SAME_SPECIALTY, [job.patient_id, specialty_id]).fetchone()
        cur.execute(OVERLAP, [job.patient_id, ends_at, starts_at]).fetchone()
        cur.execute(TAKE, [job.slot_id])
        if cur.rowcount != 1:
            return False
        ticket = secrets.token_hex(5).upper()
        cur.execute(
            INSERT,
            [
                job.slot_id,
                job.patient_id,
                job.user_id,
                specialty_id,
                starts_at,
                ends_at,
                ticket,
                key,
            ],
        )
        appointment_id = cur.fetchone()[0]  # type: ignore[index]
        details = {"appointment": appointment_id, "ticket": ticket, "slot": job.slot_id}
        cur.execute(AUDIT_INSERT, [job.user_id, job.patient_id, Jsonb(details)])
    return True


def run_db_floor(dsn: str, jobs: list[Job], *, concurrency: int, time_limit: float) -> Run:
    run = Run("database floor: booking as raw SQL")
    pending: queue.SimpleQueue[Job] = queue.SimpleQueue()
    for job in jobs:
        pending.put(job)
    deadline = time.perf_counter() + time_limit
    lock = threading.Lock()

    def worker() -> None:
        with psycopg.connect(dsn) as conn:
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
