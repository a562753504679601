"""Dates that arrive in URLs: parsed strictly and kept within sensible bounds."""

import datetime
import re

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# Far enough for any schedule, near enough that date arithmetic (a week on, a day back)
# cannot overflow ``date.max`` or step below ``date.min``; SQLite also mishandles year 1.
EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2999, 12, 31)


def day_from_url(text: str) -> datetime.date | None:
    """``YYYY-MM-DD`` with ASCII digits within [EARLIEST, LATEST], else None."""
    if not _ISO_DAY.fullmatch(text):
        return None
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        return None
    return day if EARLIEST <= day <= LATEST else None
