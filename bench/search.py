"""Slot search at region scale: `slots_list_nearest` in the server's code vs its own SQL.

For each random (specialty, district) pair the selector runs through the ORM (timed as
the server would spend it, model instances included); the statements it sent are
captured with their parameters and replayed as raw SQL through psycopg on a separate
connection. The ratio is what the ORM adds to the database's own time.

As a worker that has served for a while: the pairs' doctors and clinics are first read
once into the directory's cache (every page reads them from there, `directory.cache`),
and each timed search is one request to that cache, which reads its generation from
Redis once a request, not on every call. The rankings are not kept from that first
pass: every timed search ranks anew unless the same pair came up within
NEAREST_CACHE_SECONDS, as in life (docs/performance.md, «The slot search as a request»).
"""

import random
import time
from dataclasses import dataclass, field

import psycopg
from django.conf import settings
from django.db import connection

from bench.stats import percentile
from portal.directory.cache import as_one_request
from portal.directory.models import District, Doctor, Specialty
from portal.scheduling.rankings import rankings_forget
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
        _directory_warmed(pairs)
        for specialty, district in pairs[:5]:  # warm the raw connection's caches
            capture = _Capture()
            with connection.execute_wrapper(capture):
                slots_list_nearest(specialty, district=district)
            for sql, params in capture.statements:
                raw.execute(sql, params).fetchall()
        _rankings_dropped()
        for specialty, district in pairs:
            capture = _Capture()
            started = time.perf_counter()
            with connection.execute_wrapper(capture), as_one_request():
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


def _directory_warmed(pairs: list[tuple[Specialty, District]]) -> None:
    for specialty, district in pairs:
        with as_one_request():
            slots_list_nearest(specialty, district=district)


def _rankings_dropped() -> None:
    """Nothing ranked by the warm-up is used: this process forgets its rankings, and the
    shared copies (Redis) outlive them by at most NEAREST_CACHE_SECONDS."""
    rankings_forget()
    time.sleep(float(settings.NEAREST_CACHE_SECONDS) + 0.1)


def p(values: list[float], pct: float) -> float:
    return percentile(values, pct) * 1000
