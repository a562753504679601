"""`VACUUM (ANALYZE)` of a benchmark database before its measured phases.

The bench reuses one database run after run and churns it: every run books and frees
thousands of slots, writes and deletes waiting entries, outbox rows and sessions. In
production autovacuum removes those dead rows; the PostgreSQL of this project's machines
runs with ``autovacuum = off`` (its CI configuration), so they piled up from run to run —
300,000 dead slot rows by a session's fourth run — and every run measured a little more
of the previous runs' garbage than the one before (docs/performance.md, «Issue 25:
where each goal stood after the first session of 2026-12-06»).
Vacuuming first makes every run start from the state autovacuum would keep, and costs
about a second.
"""

import time

import psycopg


def vacuum_analyze(url: str) -> float:
    """Vacuum and analyze every table of the database at ``url``; returns the seconds."""
    started = time.perf_counter()
    # VACUUM cannot run inside a transaction block: autocommit.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return time.perf_counter() - started
