"""The pgbench floor runs the psycopg floor's statements, nothing more and nothing less."""

from bench.pgbench_floor import _script


def test_the_script_is_the_booking_s_statements_in_one_transaction():
    lines = [line for line in _script().splitlines() if line and not line.startswith("\\")]
    job, transaction = lines[0], lines[1:]
    assert job.startswith("SELECT") and job.endswith("\\gset")
    assert transaction[0] == "BEGIN;" and transaction[-1] == "END;"
    # book_raw's: lock timeout, patient lock, replay, slot lock, two rules, UPDATE, 2 INSERTs.
    assert len(transaction[1:-1]) == 9


def test_every_parameter_is_a_pgbench_variable():
    assert "%s" not in _script()
