"""How many logins of this host may wait for ESIA at once (docs/security.md, «A slow ESIA»).

A slow ESIA holds each login's sync worker for up to the login deadline (10 s); with every
worker in a login, nothing else on the host is served — not `/healthz`, not a booking. So a
login talks to ESIA only in one of `ESIA_CONCURRENT_LOGINS` slots, and one that finds no
slot within `ESIA_LOGIN_SLOT_WAIT_SECONDS` is answered at once with «try again».

A slot is an exclusive `flock` on one of N files in the host's data folder: shared by every
process and thread of the host (each open() is its own lock holder), and released by the
kernel when its holder dies, so a killed worker never leaks one. With a fast ESIA a login
holds its slot for a fraction of a second and the wait is never felt.
"""

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

POLL_SECONDS = 0.05


def _try_slot(directory: Path, number: int) -> int | None:
    """An open descriptor holding slot ``number``, or None when another holder has it."""
    descriptor = os.open(directory / f"slot-{number}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


def _take_any(directory: Path, count: int) -> int | None:
    for number in range(count):
        descriptor = _try_slot(directory, number)
        if descriptor is not None:
            return descriptor
    return None


@contextmanager
def esia_login_slot() -> Iterator[bool]:
    """Yields True while this login holds a slot; False when none came free in time."""
    directory: Path = settings.ESIA_LOGIN_SLOTS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    give_up_at = time.monotonic() + settings.ESIA_LOGIN_SLOT_WAIT_SECONDS
    descriptor = _take_any(directory, settings.ESIA_CONCURRENT_LOGINS)
    while descriptor is None and time.monotonic() < give_up_at:
        time.sleep(POLL_SECONDS)
        descriptor = _take_any(directory, settings.ESIA_CONCURRENT_LOGINS)
    if descriptor is None:
        yield False
        return
    try:
        yield True
    finally:
        os.close(descriptor)  # closing the last descriptor releases the lock
