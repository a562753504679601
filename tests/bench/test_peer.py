"""The peer phase's pure parts (bench/peer.py, bench/peer_project): no install, no load."""

import datetime
import subprocess

from bench import peer
from bench.peer_project.settings import _database
from bench.peer_project.tool import _working_days
from bench.report import Report
from bench.stats import Run

LOCK = """
version = 1

[[package]]
name = "django"
version = "5.2.19"

[[package]]
name = "gunicorn"
version = "27.0.1"
"""


def test_the_peer_gets_the_portals_locked_django():
    pins = peer.locked_versions(LOCK, ("django", "gunicorn"))
    assert pins == {"django": "5.2.19", "gunicorn": "27.0.1"}
    assert peer.requirements(pins) == ["django==5.2.19", "gunicorn==27.0.1"]


def test_a_package_missing_from_the_lock_is_said_by_name():
    try:
        peer.locked_versions(LOCK, ("django", "psycopg"))
    except peer.PeerUnavailable as refused:
        assert "psycopg" in str(refused)
    else:
        raise AssertionError("a missing pin must not pass silently")


def test_the_projects_lock_pins_everything_the_peer_shares():
    from bench.peer import ROOT, SHARED_PACKAGES

    pins = peer.locked_versions((ROOT / "uv.lock").read_text(), SHARED_PACKAGES)
    assert set(pins) == set(SHARED_PACKAGES)


def test_an_installed_venv_is_not_installed_again():
    wanted = {"django-appointment": "3.12.0", "psycopg-binary": "3.3.9", "django": "5.2.19"}
    installed = {"Django": "5.2.19", "django_appointment": "3.12.0", "psycopg-binary": "3.3.9"}
    assert peer.missing_requirements(wanted, installed) == []
    installed["Django"] = "5.1.0"
    assert peer.missing_requirements(wanted, installed) == ["django==5.2.19"]
    assert len(peer.missing_requirements(wanted, {})) == 3


def test_the_booking_posts_what_the_peers_pages_post():
    first = peer.request_submit_form("t" * 32, 1, [4, "2026-12-17", "15:00", "15:30"])
    assert first["staff_member"] == "4"
    assert first["service"] == "1"
    assert (first["date"], first["start_time"], first["end_time"]) == (
        "2026-12-17",
        "15:00",
        "15:30",
    )
    assert first["csrfmiddlewaretoken"] == "t" * 32
    second = peer.client_info_form("t" * 32, "Client N7")
    assert second["name"] == "Client N7"
    assert (second["phone_0"], second["phone_1"]) == peer.PEER_PHONE
    assert "email" not in second  # a logged-in client's e-mail is the account's


def test_the_second_step_follows_only_a_client_information_redirect():
    assert (
        peer.client_info_path("/appointment/client-info/12/17653202401abcdef/")
        == "/appointment/client-info/12/17653202401abcdef/"
    )
    assert (
        peer.client_info_path("http://127.0.0.1:18410/appointment/client-info/3/x/")
        == "/appointment/client-info/3/x/"
    )
    assert peer.client_info_path("/appointment/request-submit/") is None
    assert peer.client_info_path("/appointment/verification-code/12/x/") is None
    assert peer.client_info_path("") is None


def test_only_the_thank_you_page_counts_as_booked():
    assert peer.is_thank_you("/appointment/thank-you/41/")
    assert not peer.is_thank_you("/appointment/verification-code/12/x/")
    assert not peer.is_thank_you("/appointment/thank-you/")


def _run(name: str, status: int, count: int, seconds: float) -> Run:
    run = Run(name, duration=seconds)
    for _ in range(count):
        run.record(status, 0.05)
    return run


def test_the_rows_compare_ours_with_the_peer_against_four_times():
    result = peer.PeerResult(
        peer=_run("peer", 302, 100, 2.0),
        peer_booked=100,
        peer_created=100,
        peer_distinct=100,
        peer_bookable=3420,
        ours=_run("ours", 302, 300, 1.5),
    )
    peer_row, ours_row = result.rows()
    assert peer_row.figure.startswith("50 (")
    assert peer_row.verdict == "100/100 in its database"
    assert ours_row.figure.startswith("200 (")
    assert ours_row.ratio == "4.0×"
    assert ours_row.verdict == "ok, 300/300 booked"
    result.ours = _run("ours", 302, 150, 1.0)
    assert result.rows()[1].verdict.startswith("MISSED")


def test_a_peer_that_booked_less_than_it_answered_shows_it():
    result = peer.PeerResult(
        peer=_run("peer", 302, 10, 1.0), peer_booked=10, peer_created=9, peer_distinct=8
    )
    assert result.rows()[0].verdict == "9/10 in its database on 8 slots"


def test_the_report_carries_the_peer_rows():
    result = peer.PeerResult(error="could not install django-appointment: no network")
    rows = Report(workers=5, concurrency=16, peer=result).rows()
    assert any("not measured" in r.figure and "no network" in r.baseline for r in rows)


def test_without_network_the_phase_says_so_and_the_bench_goes_on(monkeypatch, tmp_path):
    def offline(cmd, **kwargs):
        raise subprocess.CalledProcessError(
            2, cmd, stderr="error: Failed to fetch: `https://pypi.org/simple/django-appointment/`"
        )

    monkeypatch.setenv("BENCH_PEER", "1")
    monkeypatch.setattr(peer, "_installed", lambda python: {})
    monkeypatch.setattr(peer, "_uv", lambda: "uv")
    monkeypatch.setattr(subprocess, "run", offline)
    lines: list[str] = []
    result = peer.run_peer_phase({}, tmp_path, [], "t" * 32, lines.append)
    assert result is not None and result.peer is None and result.ours is None
    assert "Failed to fetch" in result.error
    assert any("NOT MEASURED" in line for line in lines)


def test_bench_peer_0_skips_the_phase(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_PEER", "0")
    assert peer.run_peer_phase({}, tmp_path, [], "t" * 32, lambda line: None) is None


def test_the_peer_database_url_becomes_djangos_entry():
    entry = _database("postgres://bench:secret@db.local:5433/bench_peer")
    assert entry["NAME"] == "bench_peer"
    assert (entry["USER"], entry["PASSWORD"], entry["HOST"], entry["PORT"]) == (
        "bench",
        "secret",
        "db.local",
        "5433",
    )
    assert _database("postgres://postgres@127.0.0.1/bench_peer")["PORT"] == "5432"


def test_staff_days_off_fall_on_their_working_days():
    friday = datetime.date(2026, 12, 4)
    days = _working_days(friday, 7)
    assert [d.isoweekday() for d in days] == [5, 1, 2, 3, 4]
