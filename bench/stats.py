"""Pure helpers of the benchmark harness: percentiles, rates, ratios, the table.

No Django, no I/O: tests/bench/ exercises them so the harness cannot rot silently.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


def percentile(values: Sequence[float], pct: float) -> float:
    """The pct-th percentile by linear interpolation between closest ranks (NaN if empty)."""
    if not values:
        return math.nan
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile must be within 0..100, got {pct}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(value: float, baseline: float) -> float:
    """value / baseline, NaN when the baseline is missing or zero."""
    if not baseline or math.isnan(baseline) or math.isnan(value):
        return math.nan
    return value / baseline


@dataclass
class Run:
    """The outcome of one load phase: latencies in seconds, status counts, wall time."""

    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0  # connection errors and client-side timeouts
    duration: float = 0.0

    def record(self, status: int, latency: float) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.latencies.append(latency)

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def per_second(self) -> float:
        return self.count / self.duration if self.duration > 0 else math.nan

    def ms(self, pct: float) -> float:
        return percentile(self.latencies, pct) * 1000

    @classmethod
    def joined(cls, name: str, runs: Sequence["Run"]) -> "Run":
        """Several turns of one measure as one run: their requests, statuses, errors and
        wall times added up, so its rate is all requests over all the time they took."""
        whole = cls(name)
        for run in runs:
            whole.latencies.extend(run.latencies)
            for status, n in run.statuses.items():
                whole.statuses[status] = whole.statuses.get(status, 0) + n
            whole.errors += run.errors
            whole.duration += run.duration
        return whole


@dataclass
class Row:
    """One line of the result table."""

    what: str
    figure: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""


def fmt_num(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{digits}f}".replace(",", " ")


def verdict(ok: bool | None) -> str:
    if ok is None:
        return ""
    return "ok" if ok else "MISSED"


HEADERS = ("Measure", "Figure", "Baseline", "Ratio", "Target", "")


def table_markdown(rows: Sequence[Row]) -> str:
    """A Markdown table whose columns line up in a terminal too."""
    cells = [HEADERS, *((r.what, r.figure, r.baseline, r.ratio, r.target, r.verdict) for r in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADERS))]

    def line(values: Sequence[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule, *(line(c) for c in cells[1:])])


@dataclass(frozen=True)
class RatioInterval:
    """The ratio of two success rates with its 95 % interval (Katz log method)."""

    ratio: float
    low: float
    high: float

    @property
    def contains_one(self) -> bool:
        return self.low <= 1.0 <= self.high


def rate_ratio_katz(
    won_a: int, n_a: int, won_b: int, n_b: int, z: float = 1.959964
) -> RatioInterval:
    """(won_a / n_a) / (won_b / n_b) and its 95 % interval by Katz et al. (1978):
    ln RR ± z·sqrt(1/a − 1/n_a + 1/b − 1/n_b). With a zero count, 0.5 is added to every
    cell (Haldane–Anscombe) so the interval stays finite and honest about the doubt."""
    if n_a <= 0 or n_b <= 0:
        return RatioInterval(math.nan, math.nan, math.nan)
    a, b, na, nb = float(won_a), float(won_b), float(n_a), float(n_b)
    if a == 0 or b == 0:
        a, b, na, nb = a + 0.5, b + 0.5, na + 1.0, nb + 1.0
    rr = (a / na) / (b / nb)
    se = math.sqrt(max(0.0, 1 / a - 1 / na + 1 / b - 1 / nb))
    return RatioInterval(rr, math.exp(math.log(rr) - z * se), math.exp(math.log(rr) + z * se))
