"""The bench's foreign-load sampler (bench/machine.py): which processes are the bench's."""

from bench.machine import (
    FOREIGN_LIMIT,
    TICKS,
    LoadLog,
    PhaseLoad,
    ProcessTimes,
    foreign_seconds,
    own_pids,
    parse_stat,
    redis_address,
)

BACKEND = "postgres: 15/main: postgres {db} 127.0.0.1(43212) idle"


def _table() -> dict[int, ProcessTimes]:
    return {
        1: ProcessTimes(0, 0.0, "/sbin/init"),
        10: ProcessTimes(1, 1.0, "python -m bench.run"),
        11: ProcessTimes(10, 2.0, "gunicorn: master"),
        12: ProcessTimes(11, 3.0, "gunicorn: worker"),
        20: ProcessTimes(1, 4.0, "/usr/lib/postgresql/15/bin/postgres -D /var/lib/x"),
        21: ProcessTimes(20, 0.5, "postgres: 15/main: checkpointer "),
        22: ProcessTimes(20, 0.5, BACKEND.format(db="portal_bench")),
        23: ProcessTimes(20, 9.0, BACKEND.format(db="test_portal_other")),
        30: ProcessTimes(1, 7.0, "python -m pytest tests/"),
    }


def test_the_bench_tree_and_its_own_database_are_ours_another_suite_is_foreign():
    own = own_pids(_table(), 10, ("portal_bench",))
    assert own == {10, 11, 12, 20, 21, 22}


def test_the_redis_the_portal_uses_is_ours_another_redis_is_foreign():
    """The portal's sessions live in Redis: its server's work on them is the bench's. A
    Redis on another port is someone else's."""
    table = {
        50: ProcessTimes(1, 2.0, "/usr/bin/redis-server 127.0.0.1:6379"),
        51: ProcessTimes(1, 2.0, "redis-server *:6380"),
        52: ProcessTimes(1, 2.0, "python -m some_redis_client 127.0.0.1:6379"),
    }
    assert own_pids(table, 99, (), redis_address("redis://127.0.0.1:6379/1")) == {99, 50}
    assert own_pids(table, 99, (), redis_address("redis://localhost:6380")) == {99, 51}
    assert own_pids(table, 99, (), redis_address("")) == {99}  # the bench without Redis
    # "localhost" in the URL is the 127.0.0.1 of the server's title.
    assert own_pids(table, 99, (), redis_address("redis://localhost:6379/1")) == {99, 50}


def test_redis_spent_on_the_bench_is_not_foreign_load():
    before = {50: ProcessTimes(1, 2.0, "redis-server 127.0.0.1:6379")}
    after = {50: ProcessTimes(1, 2.5, "redis-server 127.0.0.1:6379")}
    assert foreign_seconds(before, after, 99, (), None) == 0.5
    assert foreign_seconds(before, after, 99, (), "127.0.0.1:6379") == 0.0


def test_a_redis_url_names_its_server():
    assert redis_address("redis://127.0.0.1:6379/1") == "127.0.0.1:6379"
    assert redis_address("redis://cache.internal/0") == "cache.internal:6379"
    assert redis_address("") is None


def test_a_backend_on_a_unix_socket_is_judged_by_its_database():
    table = {5: ProcessTimes(1, 1.0, "postgres: 15/main: postgres other [local] idle")}
    assert own_pids(table, 99, ("portal_bench",)) == {99}


def test_the_command_name_may_hold_spaces_and_parentheses():
    line = "123 (gunicorn: worker (x)) S 77 123 123 0 -1 0 0 0 0 0 250 50 0 0 20 0 1 0"
    parent, seconds = parse_stat(line)
    assert parent == 77
    assert seconds == 300 / TICKS  # utime 250 + stime 50 ticks


def test_a_busy_phase_is_warned_about_and_a_quiet_one_is_not():
    log = LoadLog(("portal_bench",))
    log.phases = [
        PhaseLoad("pages", 20.0, 0.1, FOREIGN_LIMIT / 2),
        PhaseLoad("rush", 200.0, 3.5, 1.4),
    ]
    warnings = log.warnings()
    assert len(warnings) == 1 and "rush" in warnings[0] and "1.40 cores" in warnings[0]
    assert "1 phase(s) over" in log.summary()


def test_a_real_phase_of_this_process_is_measured():
    log = LoadLog(("portal_bench",))
    with log.phase("spin"):
        sum(range(200_000))
    (phase,) = log.phases
    assert phase.name == "spin" and phase.seconds > 0 and phase.foreign_cores >= 0


def test_only_other_processes_count_as_foreign_even_when_ours_end_within_the_phase():
    before = _table()
    after = dict(before)
    del after[12]  # our gunicorn worker recycled: its time must not look foreign
    after[13] = ProcessTimes(11, 0.5, "gunicorn: worker")
    after[23] = ProcessTimes(20, 10.0, BACKEND.format(db="test_portal_other"))  # +1.0
    after[30] = ProcessTimes(1, 9.5, "python -m pytest tests/")  # +2.5
    after[31] = ProcessTimes(1, 0.25, "make test")  # new during the phase
    after[40] = ProcessTimes(2, 5.0, "")  # a kernel thread
    assert foreign_seconds(before, after, 10, ("portal_bench",)) == 1.0 + 2.5 + 0.25


def test_a_phase_the_host_slowed_is_warned_about():
    """No process inside the machine shows a host giving it less time; the speed probe
    does."""
    log = LoadLog(("portal_bench",))
    log.phases = [
        PhaseLoad("floor", 5.0, 0.1, 0.0, probe_seconds=0.010),
        PhaseLoad("pages", 20.0, 0.1, 0.0, probe_seconds=0.012),
        PhaseLoad("rush", 200.0, 0.1, 0.0, probe_seconds=0.020),
    ]
    warnings = log.warnings()
    assert len(warnings) == 1 and "rush" in warnings[0] and "2.00× slower" in warnings[0]
    assert "the slowest phase (rush) 2.00× the fastest, 1 phase(s) over" in log.summary()


def test_the_speed_probe_times_a_loop():
    from bench.machine import speed_probe

    assert 0 < speed_probe() < 5
