"""The database floor again, without a Python client: pgbench runs the booking's statements.

The same statements as `bench.dbfloor.book_raw` (the slot's glance; inside BEGIN the
patient lock with the lock timeout set in it, the slot lock with its directory rows and the
patient's appointments, the claim with the appointment's INSERT and the outbox's event
in one statement, the audit row, COMMIT) at the same concurrency, on the same distinct slots and
patients, every statement prepared (``--protocol=prepared``) as the booking's and the
psycopg floor's are. pgbench cannot index a list, so each transaction first reads its job
(user, patient, slot and the slot's times) from a table by primary key: one statement more,
outside the transaction.

What the psycopg floor loses against this figure is the Python client (one process,
sixteen threads sharing its GIL); what this loses against a bare UPDATE + INSERT is the
booking's own reads.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from bench import dbfloor
from bench.stats import Run

JOBS_TABLE = "bench_pgbench_jobs"


def _script() -> str:
    """pgbench's dialect: `:name` is a variable (a bound parameter with -M prepared)."""
    q = dbfloor
    return "\n".join(
        [
            "\\set j :client_id + :clients * :i",
            "\\set i :i + 1",
            f"SELECT user_id AS uid, patient_id AS pid, slot_id AS sid, starts_at AS st, "
            f"ends_at AS en, specialty_id AS sp, key AS k FROM {JOBS_TABLE} WHERE n = :j \\gset",
            q.GLANCE.replace("%s", ":sid") + ";",
            "BEGIN;",
            q.LOCK_PATIENT.replace("%s", ":pid") + ";",
            q.LOCK_SLOT.replace("%s", ":pid", 1).replace("%s", "now()", 1).replace("%s", ":sid", 1)
            + ";",
            q.CLAIM_INSERT.replace("%s", ":sid", 1)
            .replace(
                "SELECT %s, %s, %s, %s, %s, %s, 'booked', %s, %s,",
                "SELECT :sid, :pid, :uid, :sp, :st::timestamptz, :en::timestamptz, 'booked', "
                "lpad((random() * 1e12)::bigint::text, 12, '0'), :k::uuid,",
            )
            .replace(
                "SELECT booked.id, c0.id FROM booked, c0",
                "SELECT booked.id AS aid, booked.ticket_number AS tk FROM booked, c0 \\gset",
            ),
            q.AUDIT_INSERT.replace(
                "%s, %s, 'appointment.booked', %s",
                ":uid, :pid, 'appointment.booked', "
                "jsonb_build_object('appointment', :aid::bigint, 'ticket', :tk::text, "
                "'slot', :sid::bigint)",
            )
            + ";",
            "END;",
            "",
        ]
    )


def pgbench_path() -> str | None:
    return shutil.which("pgbench")


def _jobs_load(dsn: str, jobs: list[dbfloor.Job]) -> None:
    import uuid

    import psycopg

    from portal.scheduling.models import Slot

    slots = {
        s.pk: s
        for s in Slot.objects.filter(pk__in=[j.slot_id for j in jobs]).select_related("doctor")
    }
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {JOBS_TABLE}")
        conn.execute(
            f"CREATE TABLE {JOBS_TABLE} (n integer PRIMARY KEY, user_id bigint, "
            "patient_id bigint, slot_id bigint, starts_at timestamptz, ends_at timestamptz, "
            "specialty_id bigint, key uuid)"
        )
        with conn.cursor().copy(
            f"COPY {JOBS_TABLE} (n, user_id, patient_id, slot_id, starts_at, ends_at, "
            "specialty_id, key) FROM STDIN"
        ) as copy:
            for n, job in enumerate(jobs):
                slot = slots[job.slot_id]
                copy.write_row(
                    (n, job.user_id, job.patient_id, job.slot_id, slot.starts_at,
                     slot.ends_at, slot.doctor.specialty_id, uuid.uuid4())
                )  # fmt: skip
        conn.execute(f"ANALYZE {JOBS_TABLE}")


def _jobs_drop(dsn: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {JOBS_TABLE}")


def run_pgbench_floor(
    dsn: str, jobs: list[dbfloor.Job], *, concurrency: int, time_limit: float
) -> Run | None:
    """Bookings/s and per-transaction latency of pgbench; None when pgbench is missing."""
    binary = pgbench_path()
    if binary is None:
        return None
    per_client = len(jobs) // concurrency
    jobs = jobs[: per_client * concurrency]
    _jobs_load(dsn, jobs)
    url = urlsplit(dsn)
    run = Run("database floor: pgbench")
    with tempfile.TemporaryDirectory(prefix="bench-pgbench-") as tmp:
        script = Path(tmp) / "booking.sql"
        script.write_text(_script())
        cmd = [
            binary,
            "--no-vacuum",
            "--protocol=prepared",
            f"--client={concurrency}",
            f"--jobs={min(concurrency, os.cpu_count() or 1)}",
            f"--transactions={per_client}",
            f"--define=clients={concurrency}",
            "--define=i=0",
            f"--file={script}",
            "--log",
            f"--log-prefix={Path(tmp) / 'tx'}",
            f"--host={url.hostname or '127.0.0.1'}",
            f"--port={url.port or 5432}",
            f"--username={url.username or 'postgres'}",
            url.path.lstrip("/"),
        ]
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=time_limit * 3, check=False
            )
        finally:
            _jobs_drop(dsn)
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed: {done.stderr.strip()[-500:]}")
        # Per-transaction log lines: client_id transaction_no time_us script_no epoch epoch_us
        for log in Path(tmp).glob("tx*"):
            for line in log.read_text().split("\n"):
                fields = line.split()
                if len(fields) >= 3:
                    run.record(200, int(fields[2]) / 1e6)
        for line in done.stdout.splitlines():
            if line.startswith("tps = "):
                tps = float(line.split()[2])
                run.duration = run.count / tps if tps else 0.0
    return run
