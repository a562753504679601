"""Background work outlives a database blip (issue 24, point 3; docs/operations.md).

Before: a 12–15 s outage made `db_worker`, both sweeps and the draw runner exit and stay
down. The loop's rule is tested directly; on PostgreSQL a real worker process has its
connection killed mid-run and must go on, and the control shows the library's own worker
does not.
"""

import pytest
from django.db import OperationalError

from portal.core import resilience


class _Stop(Exception):
    pass


@pytest.mark.django_db
def test_the_loop_waits_longer_after_each_failure_and_goes_on(caplog):
    results = iter([OperationalError("server closed the connection"), OperationalError("down")])
    ran: list[int] = []
    pauses: list[float] = []

    def step():
        if (failure := next(results, None)) is not None:
            raise failure
        ran.append(1)
        if len(ran) == 2:
            raise _Stop

    with pytest.raises(_Stop):
        resilience.repeat(step, every=5, what="sweep", sleep=pauses.append)
    assert pauses == [1.0, 2.0, 5]  # the back-off, then the normal pause
    assert len(ran) == 2
    assert "sweep: the database is unavailable" in caplog.text
    assert "the database is back after 2 failed tries" in caplog.text


def test_the_back_off_stops_growing_at_thirty_seconds():
    assert [resilience.backoff(n) for n in (1, 2, 3, 5, 6, 20)] == [1, 2, 4, 16, 30, 30]


@pytest.mark.django_db
def test_run_once_a_database_error_is_raised_for_cron_to_retry():
    def step():
        raise OperationalError("down")

    with pytest.raises(OperationalError):
        resilience.repeat(step, every=0, what="sweep", sleep=lambda _: None)
