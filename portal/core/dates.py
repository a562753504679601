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


def day_within_calendar(day: datetime.date) -> None:
    """A form field's validator: the same bounds for a typed-in date (issue 24: the
    workspace answered 500 on 9999-12-31, whose next day does not exist)."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if not EARLIEST <= day <= LATEST:
        raise ValidationError(
            _("Введите дату между %(earliest)s и %(latest)s.")
            % {"earliest": EARLIEST.strftime("%d.%m.%Y"), "latest": LATEST.strftime("%d.%m.%Y")},
            code="out_of_range",
        )
