"""Turns the phases' raw figures into the one table, each figure beside its baseline."""

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.server import served_as
from bench.stats import Row, Run, fmt_num, percentile, ratio, table_markdown, verdict

# The issues' targets on the 2-core machine (issue 17 for booking, issue 25 for pages).
RUSH_P99_S = 1.0
# ≥ 300 bookings/s where the framework floor is ≈ 2,400 req/s: as a ratio of the same run.
BOOKING_VS_FLOOR = 0.125
BOOKING_P99_MS = 100.0
SEARCH_P95_MS = 20.0
# Issue 25: every patient page and the wizard at least 0.2 of the framework floor.
PAGE_VS_FLOOR = 0.2
# Issue 17 had asked 0.25 of the cabinet and the wizard, 0.2 of the two pages that read
# the most; issue 25 restated the goal as above. A page under 0.25 still says so.
PAGE_VS_FLOOR_ISSUE_17 = 0.25
HEAVY_PAGES = ("«Мои записи»", "Ближайшее свободное время")
# Issue 15 asked the FHIR API's figures beside the HTML path, with no target.
API_NOTE = "a figure (issue 15 set no target)"
RSS_MB = 200.0
OUTBOX_COST = 0.10
WAITLIST_P95_MS = 20.0

DOCS_START = "<!-- bench:results:start -->"
DOCS_END = "<!-- bench:results:end -->"


def _ok_per_second(run: Run) -> float:
    """Only what succeeded counts: a floor whose INSERT fails is no floor."""
    return run.statuses.get(200, 0) / run.duration if run.duration else math.nan


def _ms(values: list[float], pct: float) -> float:
    return percentile(values, pct) * 1000


def _rate_and_p95(run: Run) -> str:
    figure = f"{fmt_num(run.per_second, 0)} ({fmt_num(run.ms(95), 0)})"
    return figure + (f" {run.server_errors}×5xx" if run.server_errors else "")


def _page_verdict(label: str, share: float, run: Run) -> str:
    """Issue 25's goal decides ok or MISSED; a page under the bar issue 17 had set for it
    is named, so that the table hides neither."""
    met = verdict(share >= PAGE_VS_FLOOR and not run.server_errors)
    heavy = any(h in label for h in HEAVY_PAGES)  # issue 17 asked 0.2 of these too
    if met == "ok" and not heavy and share < PAGE_VS_FLOOR_ISSUE_17:
        return f"ok; under issue 17's {PAGE_VS_FLOOR_ISSUE_17}"
    return met


@dataclass
class Report:
    workers: int
    concurrency: int
    facts: dict[str, int] = field(default_factory=dict)
    floor: Run | None = None
    floor_session: Run | None = None
    db_floor: Run | None = None
    pgbench_floor: Run | None = None
    booking: Run | None = None
    pages: dict[str, Run] = field(default_factory=dict)
    api: dict[str, Run] = field(default_factory=dict)  # bench.fhir: the FHIR API's phases
    # The framework floor measured just before each page (run.py): the page's ratio is to
    # it, so the machine's drift over the minutes of the page phases does not move it.
    page_floors: dict[str, Run] = field(default_factory=dict)
    search: Any = None  # bench.search.SearchResult
    rush_compare: Any = None  # bench.rush.Comparison: first come vs the fair release
    rss: list[float] = field(default_factory=list)
    notify: Any = None  # bench.notify.NotifyResult
    waitlist: Any = None  # bench.waitlist.WaitlistResult
    peer: Any = None  # bench.peer.PeerResult: django-appointment and ours at its setup
    machine: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0
    loads: Any = None  # bench.machine.LoadLog: what else used the machine, per phase

    def rows(self) -> list[Row]:
        rows: list[Row] = []
        floor_rps = self.floor.per_second if self.floor else math.nan
        if self.floor:
            rows.append(
                Row(
                    "Framework floor: trivial view (req/s)",
                    fmt_num(floor_rps, 0),
                    "—",
                    "1.00",
                    "",
                    "",
                )
            )
        if self.floor_session:
            rps = self.floor_session.per_second
            rows.append(
                Row(
                    "Trivial view with a logged-in session (req/s)",
                    fmt_num(rps, 0),
                    fmt_num(floor_rps, 0),
                    fmt_num(ratio(rps, floor_rps), 2),
                )
            )
        for label, run in self.pages.items():
            beside = self.page_floors.get(label)
            page_floor = beside.per_second if beside is not None else floor_rps
            share = ratio(run.per_second, page_floor)
            rows.append(
                Row(
                    f"Page {label} (req/s, p95 ms)",
                    _rate_and_p95(run),
                    fmt_num(page_floor, 0) + (" beside it" if beside is not None else ""),
                    fmt_num(share, 2),
                    f"≥ {PAGE_VS_FLOOR}",
                    _page_verdict(label, share, run),
                )
            )
        for label, run in self.api.items():
            rows.append(
                Row(
                    f"API {label} (req/s, p95 ms)",
                    _rate_and_p95(run),
                    fmt_num(floor_rps, 0),
                    fmt_num(ratio(run.per_second, floor_rps), 2),
                    "",
                    f"{run.server_errors}×5xx" if run.server_errors else API_NOTE,
                )
            )
        db_bps = _ok_per_second(self.db_floor) if self.db_floor else math.nan
        if self.db_floor:
            failed = self.db_floor.count - self.db_floor.statuses.get(200, 0)
            rows.append(
                Row(
                    "Database floor: booking as raw SQL through psycopg (bookings/s, p95 ms)",
                    f"{fmt_num(db_bps, 0)} ({fmt_num(self.db_floor.ms(95), 0)})",
                    "—",
                    "1.00",
                    "",
                    f"{failed} failed" if failed else "",
                )
            )
        if self.pgbench_floor:
            pg_bps = self.pgbench_floor.per_second
            rows.append(
                Row(
                    "Database floor: the same statements through pgbench (bookings/s, p95 ms)",
                    f"{fmt_num(pg_bps, 0)} ({fmt_num(self.pgbench_floor.ms(95), 0)})",
                    fmt_num(db_bps, 0),
                    fmt_num(ratio(pg_bps, db_bps), 2),
                    "",
                    "no Python client",
                )
            )
        if self.booking:
            booked = self.booking.statuses.get(302, 0)
            bps = booked / self.booking.duration if self.booking.duration else math.nan
            rows.append(
                Row(
                    "Sustained booking over HTTP (bookings/s) vs database floor",
                    fmt_num(bps, 0),
                    fmt_num(db_bps, 0),
                    fmt_num(ratio(bps, db_bps), 2),
                )
            )
            share = ratio(bps, floor_rps)
            rows.append(
                Row(
                    "Sustained booking vs framework floor",
                    fmt_num(bps, 0),
                    fmt_num(floor_rps, 0),
                    fmt_num(share, 2),
                    f"≥ {BOOKING_VS_FLOOR}",
                    verdict(share >= BOOKING_VS_FLOOR and booked == self.booking.count),
                )
            )
            if self.pgbench_floor:
                rows.append(
                    Row(
                        "Sustained booking vs pgbench floor",
                        fmt_num(bps, 0),
                        fmt_num(self.pgbench_floor.per_second, 0),
                        fmt_num(ratio(bps, self.pgbench_floor.per_second), 2),
                    )
                )
            rows.append(
                Row(
                    "Sustained booking latency p50 / p95 / p99 (ms)",
                    " / ".join(fmt_num(self.booking.ms(p), 0) for p in (50, 95, 99)),
                    " / ".join(fmt_num(self.db_floor.ms(p), 0) for p in (50, 95, 99))
                    if self.db_floor
                    else "",
                    fmt_num(ratio(self.booking.ms(95), self.db_floor.ms(95)), 1)
                    if self.db_floor
                    else "",
                    f"p99 < {BOOKING_P99_MS:.0f} ms",
                    verdict(self.booking.ms(99) < BOOKING_P99_MS)
                    + f", {booked}/{self.booking.count} booked"
                    + (f", {self.booking.server_errors}×5xx" if self.booking.server_errors else ""),
                )
            )
        if self.peer:
            rows += self.peer.rows()
        if self.search:
            orm95, raw95 = _ms(self.search.orm, 95), _ms(self.search.raw, 95)
            rows.append(
                Row(
                    f"Slot search, {len(self.search.orm)} random pairs: p50 / p95 (ms)",
                    f"{fmt_num(_ms(self.search.orm, 50))} / {fmt_num(orm95)}",
                    f"{fmt_num(_ms(self.search.raw, 50))} / {fmt_num(raw95)} raw SQL",
                    fmt_num(ratio(orm95, raw95), 2),
                    f"p95 < {SEARCH_P95_MS:.0f} ms",
                    verdict(orm95 < SEARCH_P95_MS),
                )
            )
        if self.rush_compare:
            rows += self.rush_compare.rows()
        if self.notify:
            rows += self._notify_rows()
        if self.waitlist:
            rows += self._waitlist_rows()
        if self.rss:
            peak = max(self.rss)
            rows.append(
                Row(
                    f"Peak RSS per worker, {len(self.rss)} workers (MB)",
                    f"max {fmt_num(peak, 0)} (" + ", ".join(fmt_num(r, 0) for r in self.rss) + ")",
                    "",
                    "",
                    f"< {RSS_MB:.0f} MB",
                    verdict(peak < RSS_MB),
                )
            )
        return rows

    def _notify_rows(self) -> list[Row]:
        result = self.notify
        with_rows = result.per_second(result.with_rows)
        without = result.per_second(result.without_rows)
        return [
            Row(
                f"Booking in process with / without the outbox rows "
                f"({fmt_num(result.rows_per_booking, 1)} rows each; bookings/s)",
                fmt_num(with_rows, 0),
                fmt_num(without, 0),
                fmt_num(ratio(with_rows, without), 2),
                f"cost < {OUTBOX_COST:.0%}",
                verdict(result.cost < OUTBOX_COST),
            ),
            Row(
                "… writing the confirmation's messages and a task row in the booking instead "
                "(bookings/s)",
                fmt_num(result.per_second(result.with_task), 0),
                fmt_num(without, 0),
                fmt_num(ratio(result.per_second(result.with_task), without), 2),
            ),
            Row(
                "One outbox worker: e-mails/s to the local SMTP sink, SMS/s to the SMSC emulator",
                f"{fmt_num(result.email_per_second, 0)} / {fmt_num(result.sms_per_second, 0)}",
                f"{result.email_count} / {result.sms_count} messages, one task each; "
                f"{fmt_num(result.backlog_per_second, 0)} e-mails/s draining a backlog",
            ),
        ]

    def _waitlist_rows(self) -> list[Row]:
        result = self.waitlist
        base95 = result.ms(result.baseline, 95)
        rows = [
            Row(
                f"Waitlist: a freed slot matched against {result.entries} waiting entries, "
                "p50 / p95 (ms; baseline: the bare indexed query)",
                f"{fmt_num(result.ms(result.matching, 50), 1)} / "
                f"{fmt_num(result.ms(result.matching, 95), 1)}",
                f"{fmt_num(result.ms(result.baseline, 50), 1)} / {fmt_num(base95, 1)}",
                fmt_num(ratio(result.ms(result.matching, 95), base95), 1),
                f"p95 < {WAITLIST_P95_MS:.0f} ms",
                verdict(result.ms(result.matching, 95) < WAITLIST_P95_MS),
            ),
            Row(
                "… the whole offer (`slot_freed`: hold, offer, audit, notifications, commit)",
                f"{fmt_num(result.ms(result.slot_freed, 50), 1)} / "
                f"{fmt_num(result.ms(result.slot_freed, 95), 1)}",
                f"{fmt_num(result.ms(result.baseline, 50), 1)} / {fmt_num(base95, 1)}",
                fmt_num(ratio(result.ms(result.slot_freed, 95), base95), 1),
            ),
        ]
        return rows

    def table(self) -> str:
        return table_markdown(self.rows())

    def markdown(self) -> str:
        machine = ", ".join(f"{k}: {v}" for k, v in self.machine.items())
        facts = ", ".join(
            f"{v:,} {k}".replace(",", " ") for k, v in self.facts.items() if k != "rush_slots"
        )
        parts = [
            f"Machine: {machine}.  ",
            f"Server: gunicorn, {served_as(self.workers)}; load: {self.concurrency} "
            f"concurrent clients (the rush: its own count), all on 127.0.0.1.  ",
            f"Dataset: {facts}.  ",
            f"Run time of `make bench`: {self.elapsed / 60:.1f} min.",
            *self._load_lines(),
            "",
            self.table(),
        ]
        if self.search is not None and self.search.explain:
            parts += [
                "",
                f"EXPLAIN (ANALYZE, BUFFERS) of the nearest-free-slots query "
                f"({self.search.explain_pair}):",
                "",
                "```",
                self.search.explain,
                "```",
            ]
        return "\n".join(parts) + "\n"

    def _load_lines(self) -> list[str]:
        if self.loads is None:
            return []
        lines = ["", f"Machine load: {self.loads.summary()}."]
        return lines + [f"**{warning}**" for warning in self.loads.warnings()]

    def update_docs(self, path: Path) -> None:
        text = path.read_text()
        block = f"{DOCS_START}\n{self.markdown()}{DOCS_END}"
        pattern = re.compile(re.escape(DOCS_START) + ".*?" + re.escape(DOCS_END), re.S)
        if pattern.search(text):
            text = pattern.sub(lambda _: block, text)
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
        path.write_text(text)
