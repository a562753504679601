"""The pgbench floor runs the psycopg floor's statements, nothing more and nothing less."""

from bench import dbfloor
from bench.pgbench_floor import _script


def test_the_script_is_the_booking_s_statements_in_one_transaction():
    lines = [line for line in _script().splitlines() if line and not line.startswith("\\")]
    job, glance, transaction = lines[0], lines[1], lines[2:]
    assert job.startswith("SELECT") and job.endswith("\\gset")
    assert glance.startswith(dbfloor.GLANCE.split("%s")[0])
    assert transaction[0] == "BEGIN;" and transaction[-1] == "END;"
    # book_raw's: patient lock (with the lock timeout), slot lock, claim + INSERT + event,
    # audit.
    body = transaction[1:-1]
    assert len(body) == 4
    assert "set_config('lock_timeout'" in body[0] and "FOR UPDATE" in body[0]
    assert body[2].startswith("WITH claimed AS") and "SELECT :sid, :pid, :uid" in body[2]
    assert "notifications_event" in body[2] and body[2].endswith("\\gset")
    assert body[3].startswith("INSERT INTO") and "audit_auditevent" in body[3]


def test_every_parameter_is_a_pgbench_variable():
    assert "%s" not in _script()
