"""The host's ESIA login slots (portal/identity/login_slots.py)."""

import subprocess
import sys
import threading

from portal.identity.login_slots import esia_login_slot


def test_a_login_waits_for_a_slot_then_is_turned_away(settings, tmp_path):
    settings.ESIA_LOGIN_SLOTS_DIR = tmp_path
    settings.ESIA_CONCURRENT_LOGINS = 1
    settings.ESIA_LOGIN_SLOT_WAIT_SECONDS = 0.2
    seen: list[bool] = []
    with esia_login_slot() as first:
        other = threading.Thread(target=lambda: seen.append(esia_login_slot().__enter__()))
        other.start()
        other.join()
    assert first is True and seen == [False]
    with esia_login_slot() as again:
        assert again is True  # given back when the first login ended


def test_a_slot_held_by_a_killed_worker_is_free_again(settings, tmp_path):
    settings.ESIA_LOGIN_SLOTS_DIR = tmp_path
    settings.ESIA_CONCURRENT_LOGINS = 1
    settings.ESIA_LOGIN_SLOT_WAIT_SECONDS = 0.2
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time;"
            f"d = os.open({str(tmp_path / 'slot-0.lock')!r}, os.O_RDWR | os.O_CREAT);"
            "fcntl.flock(d, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with esia_login_slot() as while_held:
        assert while_held is False
    holder.kill()
    holder.wait()
    with esia_login_slot() as after:
        assert after is True
