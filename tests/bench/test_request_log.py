"""`bench.request_log`: a worker's log read against the fair rush's opening (no server)."""

from bench.request_log import kind_of, summary


def _log(folder, pid: str, lines: list[tuple[float, float, float, str]]) -> None:
    (folder / f"{pid}.log").write_text(
        "".join(f"{a:.6f} {b:.6f} {c:.6f} {path}\n" for a, b, c, path in lines)
    )


def test_the_rush_paths_are_its_kinds():
    assert kind_of("/booking/nearest/") == "nearest"
    assert kind_of("/booking/slot/17/") == "book"
    assert kind_of("/release/requests/4/") == "result"
    assert kind_of("/release/ballot/9/") == "ballot"
    assert kind_of("/healthz") == "/healthz"


def test_each_workers_first_request_after_the_opening_and_each_kind_in_the_burst(tmp_path):
    opens = 1_000.0
    _log(
        tmp_path,
        "11",
        [
            (opens - 5, opens - 4.99, 0.002, "/release/ballot/1/"),  # before: not counted
            (opens + 0.08, opens + 0.13, 0.011, "/booking/nearest/"),
            (opens + 0.13, opens + 0.134, 0.003, "/booking/nearest/"),
        ],
    )
    _log(tmp_path, "12", [(opens + 0.9, opens + 0.904, 0.003, "/booking/slot/5/")])
    timeline = {
        "fair": [
            ["nearest", 0.05, 0.13, 200],
            ["nearest", 0.05, 0.14, 200],
            ["book", 0.89, 0.91, 409],
        ],
        "opens_at": {"fair": opens},
    }
    lines = summary(tmp_path, timeline)
    assert "  11: nearest began 0.080, in the worker 50.0, CPU 11.0" in lines
    assert "  12: book began 0.900, in the worker 4.0, CPU 3.0" in lines
    nearest = next(line for line in lines if line.startswith("| nearest |"))
    assert nearest.startswith("| nearest | 2 | 27.0 / ")
    assert "| 7.00 |" in nearest  # the CPU's mean: (11 + 3) / 2
    assert nearest.endswith("| 85 / 90 |")  # the load generator's latencies
