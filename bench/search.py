"""Slot search at region scale: `slots_list_nearest` in the server's code vs its own SQL.

For each random (specialty, district) pair the selector runs through the ORM (timed as
the server would spend it, model instances included); the statements it sent are
captured with their parameters and replayed as raw SQL through psycopg on a separate
connection. The ratio is what the ORM adds to the database's own time.
"""

import random
import time
from dataclasses import dataclass, field

import psycopg
from django.db import connection

from bench.stats import percentile
from portal.directory.models import District, Doctor, Specialty
from portal.scheduling.selectors import slots_list_nearest


@dataclass
class SearchResult:
    orm: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    found: int = 0
    explain: str = ""
    explain_pair: str = ""


class _Capture:
    def __init__(self) -> None:
        self.statements: list[tuple[str, tuple[object, ...]]] = []

    def __call__(self, execute, sql, params, many, context):
        self.statements.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)


def search_pairs(count: int, seed: int = 11) -> list[tuple[Specialty, District]]:
    """Random pairs among those where the region has doctors (a search a patient would make)."""
    combos = sorted(
        set(
            Doctor.objects.filter(is_active=True).values_list("specialty_id", "clinic__district_id")
        )
    )
    rng = random.Random(seed)
    picked = [rng.choice(combos) for _ in range(count)]
    specialties = Specialty.objects.in_bulk({s for s, _ in picked})
    districts = District.objects.in_bulk({d for _, d in picked})
    return [(specialties[s], districts[d]) for s, d in picked]


def run_search(dsn: str, count: int, explain_for: tuple[str, str]) -> SearchResult:
    result = SearchResult()
    pairs = search_pairs(count)
    with psycopg.connect(dsn, autocommit=True) as raw:
        for specialty, district in pairs[:5]:  # warm both connections' caches
            slots_list_nearest(specialty, district=district)
        for specialty, district in pairs:
            capture = _Capture()
            started = time.perf_counter()
            with connection.execute_wrapper(capture):
                slots = slots_list_nearest(specialty, district=district)
            result.orm.append(time.perf_counter() - started)
            result.found += bool(slots)
            started = time.perf_counter()
            for sql, params in capture.statements:
                raw.execute(sql, params).fetchall()
            result.raw.append(time.perf_counter() - started)
        specialty = Specialty.objects.get(code=explain_for[0])
        district = District.objects.get(name=explain_for[1])
        capture = _Capture()
        with connection.execute_wrapper(capture):
            slots_list_nearest(specialty, district=district)
        sql, params = capture.statements[0]
        rows = raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
        result.explain = "\n".join(r[0] for r in rows)
        result.explain_pair = f"{specialty.name}, {district.name}"
    return result


def p(values: list[float], pct: float) -> float:
    return percentile(values, pct) * 1000
