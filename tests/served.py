"""The portal served by a real gunicorn in a test: a migrated SQLite database made once per
run, and the master's worker processes."""

import fcntl
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def served_environment(data_dir: Path) -> dict[str, str]:
    """The environment of a portal served as in production (DEBUG off) on 127.0.0.1, with
    its own SQLite database in ``data_dir`` and no Redis."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return env | {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTAL_DATA_DIR": str(data_dir),
        "DEBUG": "0",
        "SECRET_KEY": "served-test-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "WHITENOISE_USE_FINDERS": "1",
        "RATELIMIT_ENABLE": "0",
    }


def shared_folder(tmp_path_factory) -> Path:
    """A folder every xdist worker of this run shares."""
    folder = tmp_path_factory.getbasetemp().parent / "served-migrated"
    folder.mkdir(exist_ok=True)
    return folder


def migrated_sqlite(tmp_path_factory, env: dict[str, str]) -> Path:
    """A migrated empty SQLite database, made once for the whole run (migrating takes
    about ten seconds) and copied for each gunicorn: under a folder every xdist worker
    shares, behind a file lock, named after every migration file (`portal.demo.migrated`)
    so a copy left by an older run is never used."""
    from portal.demo.migrated import migrations_key

    folder = shared_folder(tmp_path_factory)
    database = folder / f"migrated-{migrations_key()}.sqlite3"
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not database.exists():
            data = folder / f"data-{os.getpid()}"
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
                cwd=ROOT,
                env=env | {"PORTAL_DATA_DIR": str(data)},
                check=True,
            )
            os.replace(data / "portal.sqlite3", database)
    return database


def workers_of(pid: int) -> list[int]:
    """The worker processes of a gunicorn master."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
