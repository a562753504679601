"""How the suite is split between CI's passes, and the ledger that proves nothing dropped.

`make test` runs every test once, on whatever `DATABASE_URL` names. CI (`.ci/run`) runs
the suite twice, once per engine, but only the tests whose outcome can depend on the
engine run on both (docs/architecture.md, "Tests"):

- ``PORTAL_TEST_SCOPE=engine`` (the SQLite pass) keeps the tests that use the database:
  the ``db``/``transactional_db``/``live_server`` fixtures, the ``django_db`` marker, or a
  fixture that needs one of them. Browser tests and the ``postgres_only`` races are
  deselected: they run on PostgreSQL. A test without database access cannot reach the
  database at all (pytest-django blocks it), so it cannot depend on the engine.
- unset (or ``all``): everything, as `make test` runs it.

With ``PORTAL_TEST_LEDGER=<folder>``, each pass writes there what it collected (and which
scope each test has) and what ran on which engine; ``python -m tests.suite_passes
<folder>`` then fails if any collected test did not run on PostgreSQL, or an engine test
did not run on SQLite too.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

SCOPE_ENV = "PORTAL_TEST_SCOPE"
LEDGER_ENV = "PORTAL_TEST_LEDGER"
# Fixtures that give a test the database (pytest-django's, and Django's live server). Not
# django_db_blocker: every test's closure has it, through pytest-django's autouse fixtures.
DATABASE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "live_server",
    }
)


def engine_dependent(item: pytest.Item) -> bool:
    """True for a test that reaches the database, so its outcome may depend on the engine."""
    names = set(getattr(item, "fixturenames", ()))
    return bool(names & DATABASE_FIXTURES) or item.get_closest_marker("django_db") is not None


def runs_once(item: pytest.Item) -> bool:
    """Browser tests and PostgreSQL's races run once, on PostgreSQL, even if they use the DB."""
    return (
        item.get_closest_marker("browser") is not None
        or item.get_closest_marker("postgres_only") is not None
        or "/browser/" in item.path.as_posix()
    )


def scope_of(item: pytest.Item) -> str:
    return "engine" if engine_dependent(item) and not runs_once(item) else "once"


def _worker(config: pytest.Config) -> str | None:
    workerinput = getattr(config, "workerinput", None)
    return None if workerinput is None else str(workerinput["workerid"])


def _ledger() -> Path | None:
    folder = os.environ.get(LEDGER_ENV, "")
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pass_name() -> str:
    return f"{connection.vendor}-{os.environ.get(SCOPE_ENV) or 'all'}-{os.getpid()}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Before any deselection (-m, -k or the scope): note the whole collection in the ledger."""
    ledger = _ledger()
    if ledger is None or _worker(config) not in (None, "gw0"):
        return
    lines = (f"{scope_of(item)}\t{item.nodeid}\n" for item in items)
    (ledger / f"collected-{_pass_name()}.tsv").write_text("".join(lines), encoding="utf-8")


def _deselect_by_scope(config: pytest.Config, items: list[pytest.Item]) -> None:
    scope = os.environ.get(SCOPE_ENV, "") or "all"
    if scope == "all":
        return
    if scope != "engine":
        raise pytest.UsageError(f"{SCOPE_ENV}={scope!r}: expected 'engine' or 'all'")
    keep = [item for item in items if scope_of(item) == "engine"]
    dropped = [item for item in items if scope_of(item) != "engine"]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


class _ScopePlugin:
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        _deselect_by_scope(config, items)


class _RanLedger:
    """On the controller (or a run without xdist): which test ended how, on which engine.

    A list, not a dict: schemathesis gives its generated cases one node id."""

    def __init__(self) -> None:
        self.outcomes: list[tuple[str, str]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and not report.passed):
            outcome = "xfailed" if hasattr(report, "wasxfail") else report.outcome
            self.outcomes.append((report.nodeid, outcome))
        elif report.when == "teardown" and report.failed:
            self.outcomes.append((report.nodeid, "failed"))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        counts = Counter(outcome for _, outcome in self.outcomes)
        scope = os.environ.get(SCOPE_ENV) or "all"
        workers = getattr(terminalreporter.config.option, "numprocesses", None) or 1
        detail = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        deselected = len(terminalreporter.stats.get("deselected", []))
        terminalreporter.write_line(
            f"suite pass: scope={scope}, engine={connection.vendor}, workers={workers}: "
            f"{counts.total()} test outcomes ({detail or 'nothing ran'})"
            + (f", {deselected} deselected" if deselected else "")
        )
        ledger = _ledger()
        if ledger is not None:
            lines = (f"{outcome}\t{nodeid}\n" for nodeid, outcome in self.outcomes)
            (ledger / f"ran-{_pass_name()}.tsv").write_text("".join(lines), encoding="utf-8")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_ScopePlugin(), "portal-suite-scope")
    if _worker(config) is None:
        config.pluginmanager.register(_RanLedger(), "portal-suite-ledger")


def check(folder: Path) -> list[str]:
    """Every collected test ran on PostgreSQL; every engine test ran on SQLite as well."""
    scopes: dict[str, str] = {}
    for path in folder.glob("collected-*.tsv"):
        for line in path.read_text(encoding="utf-8").splitlines():
            scope, nodeid = line.split("\t", 1)
            scopes[nodeid] = scope
    ran: dict[str, dict[str, set[str]]] = {"sqlite": {}, "postgresql": {}}
    for path in folder.glob("ran-*.tsv"):
        vendor = path.name.split("-")[1]
        for line in path.read_text(encoding="utf-8").splitlines():
            outcome, nodeid = line.split("\t", 1)
            ran.setdefault(vendor, {}).setdefault(nodeid, set()).add(outcome)
    problems: list[str] = []
    checked = 0
    if not scopes:
        problems.append(f"no collected-*.tsv in {folder}")
    for nodeid, scope in sorted(scopes.items()):
        engines = ["postgresql", "sqlite"] if scope == "engine" else ["postgresql"]
        for engine in engines:
            checked += 1
            ended = ran[engine].get(nodeid)
            if ended is None:
                problems.append(f"never ran on {engine}: {nodeid}")
            elif not ended <= {"passed", "xfailed"}:
                problems.append(f"{'/'.join(sorted(ended))} on {engine}: {nodeid}")
    engine_tests = sum(1 for scope in scopes.values() if scope == "engine")
    print(
        f"suite ledger: {len(scopes)} test ids collected, {engine_tests} on both engines, "
        f"{len(scopes) - engine_tests} on PostgreSQL only; ran {len(ran['sqlite'])} on SQLite, "
        f"{len(ran['postgresql'])} on PostgreSQL"
    )
    # The plain closing line: every (test, engine) the ledger expects, and how it ended.
    print(f"ledger: {checked - len(problems)} passed, {len(problems)} failed")
    return problems


if __name__ == "__main__":
    found = check(Path(sys.argv[1]))
    for problem in found:
        print(problem, file=sys.stderr)
    sys.exit(1 if found else 0)
