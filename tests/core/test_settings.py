import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_int, env_list


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


def test_sqlite_runs_in_wal_with_immediate_transactions(settings):
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("SQLite-specific")
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert db["OPTIONS"]["timeout"] >= 5


def test_region_time_zone_and_language(settings):
    assert settings.TIME_ZONE == "Asia/Irkutsk"
    assert settings.LANGUAGE_CODE == "ru"
    assert settings.AUTH_USER_MODEL == "identity.User"
