import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone

from portal.env import env_bool, env_int, env_list
from tests.factories import AppointmentFactory, SlotFactory


def test_env_bool_refuses_a_misspelt_value(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        env_bool("SOME_FLAG", False)


def test_env_int_and_list(monkeypatch):
    monkeypatch.setenv("N", "12")
    monkeypatch.setenv("HOSTS", "a.ru, b.ru,")
    assert env_int("N", 1) == 12
    assert env_list("HOSTS", []) == ["a.ru", "b.ru"]
    monkeypatch.setenv("N", "twelve")
    with pytest.raises(ImproperlyConfigured):
        env_int("N", 1)


def _import_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "-c", "import portal.settings"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret(tmp_path):
    result = _import_settings({"DEBUG": "0", "PORTAL_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_development_generates_and_keeps_a_secret(tmp_path):
    assert _import_settings({"DEBUG": "1", "PORTAL_DATA_DIR": str(tmp_path)}).returncode == 0
    key = (tmp_path / "secret_key").read_text()
    assert len(key) > 40
    _import_settings({"DEBUG": "1", "PORTAL_DATA_DIR": str(tmp_path)})
    assert (tmp_path / "secret_key").read_text() == key


SQLITE_PROBE = """
import sqlite3
import django
django.setup()
from django.db import connection, transaction
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    mode = cursor.fetchone()[0]
    cursor.execute("PRAGMA busy_timeout")
    busy = cursor.fetchone()[0]
with transaction.atomic():
    connection.cursor().execute("SELECT 1")
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0.1)
    try:
        other.execute("BEGIN IMMEDIATE")
        writer_waits = False
    except sqlite3.OperationalError:
        writer_waits = True
print(mode, busy, writer_waits)
"""


def test_sqlite_runs_in_wal_and_a_transaction_takes_the_write_lock_at_begin(tmp_path):
    """The default database as `make run` opens it: a real file, not the test suite's."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG"}}
    env.update({"PORTAL_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "portal.settings"})
    result = subprocess.run(
        [sys.executable, "-c", SQLITE_PROBE], env=env, capture_output=True, text=True, check=True
    )
    mode, busy, writer_waits = result.stdout.split()
    assert mode == "wal"
    assert int(busy) >= 5000  # a second writer waits seconds before "database is locked"
    # IMMEDIATE: an open transaction already holds the write lock, so writers queue at BEGIN.
    assert writer_waits == "True"


def test_every_environment_variable_is_listed_in_env_example():
    root = Path(__file__).resolve().parents[2]
    source = (root / "portal" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'(?:env_\w+|_esia_file)\(\s*"([A-Z_]+)"', source))
    listed = set(re.findall(r"^#? ?([A-Z_]+)=", (root / ".env.example").read_text(), re.M))
    assert len(read) > 40
    assert read - listed == set()


GENITIVE_MONTHS = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
]


@pytest.mark.django_db
def test_a_time_stored_in_utc_is_shown_in_irkutsk_time_and_in_russian(client, guardian):
    utc = (timezone.now() + timedelta(days=2)).replace(hour=2, minute=5, second=0, microsecond=0)
    AppointmentFactory(
        patient=guardian.patient,
        booked_by=guardian,
        slot=SlotFactory(starts_at=utc, status="booked"),
    )
    client.force_login(guardian)
    page = client.get(reverse("scheduling:appointment_list")).content.decode()
    local = utc.astimezone(ZoneInfo("Asia/Irkutsk"))
    assert "10:05" in page and "02:05" not in page  # UTC+8, stored as 02:05 UTC
    assert f"{local.day} {GENITIVE_MONTHS[local.month - 1]} {local.year}" in page
