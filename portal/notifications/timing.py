"""When a message may go out: the reminder times and the quiet hours, in the region's time.

Every rule about *when* lives here, so the writer (at booking) and the worker (at send
time) decide alike.
"""

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from portal.notifications.models import Kind


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def is_quiet(moment: datetime.datetime) -> bool:
    """Inside the quiet hours (22:00–08:00 by default, the window may wrap midnight)."""
    local = moment.astimezone(_tz()).time()
    start, end = settings.NOTIFICATIONS_QUIET_START, settings.NOTIFICATIONS_QUIET_END
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def quiet_end_after(moment: datetime.datetime) -> datetime.datetime:
    """The first moment at or after ``moment`` that is outside the quiet hours."""
    if not is_quiet(moment):
        return moment
    local = moment.astimezone(_tz())
    end = datetime.datetime.combine(local.date(), settings.NOTIFICATIONS_QUIET_END, tzinfo=_tz())
    if end <= local:
        end += datetime.timedelta(days=1)
    return end.astimezone(datetime.UTC)


def reminder_send_at(
    when: datetime.datetime, starts_at: datetime.datetime
) -> tuple[datetime.datetime | None, str]:
    """Move a reminder out of the quiet hours; None (and why) when it would come too late.

    A reminder moved past the quiet hours must still arrive NOTIFICATIONS_MIN_LEAD_MINUTES
    before the visit; otherwise it is skipped (the evening one has told the patient).
    """
    moved = quiet_end_after(when)
    lead = datetime.timedelta(minutes=settings.NOTIFICATIONS_MIN_LEAD_MINUTES)
    if moved > starts_at - lead:
        return None, "тихие часы: после 08:00 напоминать уже поздно"
    return moved, ""


def reminder_plan(starts_at: datetime.datetime) -> list[tuple[Kind, datetime.datetime]]:
    """Every reminder a visit at ``starts_at`` gets, in time order, each at its moment moved
    out of the quiet hours; one the quiet hours make pointless is dropped."""
    local_start = starts_at.astimezone(_tz())
    evening = datetime.datetime.combine(
        local_start.date() - datetime.timedelta(days=1),
        settings.NOTIFICATIONS_EVENING_REMINDER_AT,
        tzinfo=_tz(),
    ).astimezone(datetime.UTC)
    soon = starts_at - datetime.timedelta(hours=settings.NOTIFICATIONS_SOON_REMINDER_HOURS)
    planned = []
    for kind, when in ((Kind.REMINDER_EVENING, evening), (Kind.REMINDER_SOON, soon)):
        send_at, _reason = reminder_send_at(when, starts_at)
        if send_at is not None:
            planned.append((kind, send_at))
    return sorted(planned, key=lambda pair: pair[1])


def reminder_times(
    starts_at: datetime.datetime, now: datetime.datetime
) -> list[tuple[Kind, datetime.datetime]]:
    """The reminders an appointment gets, booked at ``now``: those already past are dropped
    (booked at 20:00 for tomorrow: no evening reminder, the confirmation has just come)."""
    return [(kind, at) for kind, at in reminder_plan(starts_at) if at > now]


def reminders_due(
    starts_at: datetime.datetime, first: datetime.datetime, now: datetime.datetime
) -> tuple[list[tuple[Kind, datetime.datetime]], datetime.datetime | None]:
    """Of the reminders from ``first`` on (the next one not yet written), those due by
    ``now``, and when the one after them falls due (None: no reminder left)."""
    left = [(kind, at) for kind, at in reminder_plan(starts_at) if at >= first]
    due = [(kind, at) for kind, at in left if at <= now]
    later = [at for _kind, at in left if at > now]
    return due, (later[0] if later else None)


def retry_delay(attempts: int) -> datetime.timedelta:
    """Exponential backoff after the ``attempts``-th failed try: base · 2^(n-1), capped."""
    base = settings.NOTIFICATIONS_RETRY_BASE_SECONDS
    seconds = min(base * 2 ** max(attempts - 1, 0), settings.NOTIFICATIONS_RETRY_MAX_SECONDS)
    return datetime.timedelta(seconds=seconds)
