"""A migrated empty SQLite database, kept for the next fresh data directory.

Migrating a new SQLite database takes seconds (about a hundred migrations, most of the
time in Django rendering model states, not in SQL), and `make run` in a fresh
PORTAL_DATA_DIR did it every time for the same result. The first fresh migrate keeps a
copy of the migrated, still empty database (``VACUUM INTO``) under a name made of the
hash of every migration file Django loads, Django's version and SQLite's; a later fresh
data directory starts from that copy, and `migrate` then has nothing to apply. Any
change to a migration changes the name, so a stale copy is never used; `migrate` runs
after the copy anyway. Development stand only (`serve_demo`); PostgreSQL is migrated
as usual. MIGRATED_TEMPLATE_DIR="" switches it off.
"""

import hashlib
import os
import sqlite3
import sys
from pathlib import Path

import django
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.migrations.loader import MigrationLoader


def template_dir() -> Path | None:
    default = Path(settings.BASE_DIR) / ".venv" / "portal-migrated"
    value = os.environ.get("MIGRATED_TEMPLATE_DIR", str(default))
    return Path(value) if value else None


def migrations_key() -> str:
    """Changes whenever any migration file, Django or SQLite changes."""
    loader = MigrationLoader(None, ignore_no_migrations=True, load=True)
    digest = hashlib.sha256(f"{django.__version__}|{sqlite3.sqlite_version}".encode())
    for app_label, name in sorted(loader.disk_migrations):
        module = sys.modules[type(loader.disk_migrations[app_label, name]).__module__]
        digest.update(f"{app_label}.{name}".encode())
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()[:20]


def migrate(database: str = "default") -> str:
    """Migrate; a new SQLite database starts from the kept copy. Says what it did."""
    connection = connections[database]
    folder = template_dir()
    if connection.vendor != "sqlite" or folder is None:
        call_command("migrate", database=database, verbosity=0, skip_checks=True)
        return "миграции применены"
    path = Path(connection.settings_dict["NAME"])
    fresh = not path.exists() or path.stat().st_size == 0
    template = folder / f"migrated-{migrations_key()}.sqlite3"
    used = fresh and template.exists()
    if used:
        connection.close()
        for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)  # of a deleted database: not this copy's
        tmp = path.with_suffix(".from-template")
        tmp.write_bytes(template.read_bytes())
        os.replace(tmp, path)
    call_command("migrate", database=database, verbosity=0, skip_checks=True)
    if fresh and not used:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = template.with_suffix(f".{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(tmp)])
        os.replace(tmp, template)  # atomic: a concurrent run sees the old name or the new
        return f"миграции применены, копия для новых каталогов данных: {template}"
    return "миграции из сохранённой копии" if used else "миграции: нечего применять"
