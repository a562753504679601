"""The pgbench floor runs the psycopg floor's statements, nothing more and nothing less."""

from bench import dbfloor
from bench.pgbench_floor import _script


def test_the_script_is_the_booking_s_statements_in_one_transaction():
    lines = [line for line in _script().splitlines() if line and not line.startswith("\\")]
    job, glance, transaction = lines[0], lines[1], lines[2:]
    assert job.startswith("SELECT") and job.endswith("\\gset")
    assert glance.startswith(dbfloor.GLANCE.split("%s")[0])
    assert transaction[0] == "BEGIN;" and transaction[-1] == "END;"
    # book_raw's: lock timeout, patient lock, slot lock, claim + INSERT + event, audit.
    body = transaction[1:-1]
    assert len(body) == 5
    assert body[0] == dbfloor.LOCK_TIMEOUT + ";"
    assert body[3].startswith("WITH claimed AS") and "SELECT :sid, :pid, :uid" in body[3]
    assert "notifications_event" in body[3] and body[3].endswith("\\gset")
    assert body[4].startswith("INSERT INTO") and "audit_auditevent" in body[4]


def test_every_parameter_is_a_pgbench_variable():
    assert "%s" not in _script()
