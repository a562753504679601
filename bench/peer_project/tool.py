"""Set up and check the peer's database; runs in the peer's venv, never in the portal's.

    python -m bench.peer_project.tool prepare COUNT OUT.json   # migrate, reset, data, sessions
    python -m bench.peer_project.tool count                    # what the bookings created

`prepare` builds, through django-appointment's own models, a clinic the size of the portal's
sustained booking phase: STAFF staff members offering one 30-minute free service, working
Monday to Friday 09:00–18:00, each with a day off in the window, and COUNT clients, each
logged in with a session written straight into the database (as the portal's bench does for
its patients). The bookable slots are those django-appointment's own availability function
(`get_available_slots_for_staff`) offers from tomorrow on; COUNT of them, in a seeded random
order, go to OUT.json with the sessions. Every earlier booking is deleted first, so each run
starts from the same state.
"""

import datetime
import json
import logging
import os
import random
import sys
from pathlib import Path
from typing import Any

STAFF = 10
WINDOW_DAYS = 28
SERVICE_NAME = "Consultation"
SLOT_MINUTES = 30
OPENS = datetime.time(9, 0)
CLOSES = datetime.time(18, 0)
WEEKDAYS = (1, 2, 3, 4, 5)  # django-appointment counts 0 = Sunday … 6 = Saturday
CLIENT_PREFIX = "peer-client-"
STAFF_PREFIX = "peer-staff-"


def _setup() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peer_project.settings")
    # django-appointment's loggers print every INFO line to stdout past Django's LOGGING.
    logging.disable(logging.INFO)
    django.setup()


def _reset() -> None:
    from appointment.models import Appointment, AppointmentRequest
    from django.contrib.sessions.models import Session

    Appointment.objects.all().delete()
    AppointmentRequest.objects.all().delete()
    Session.objects.all().delete()


def _clinic(first_day: datetime.date) -> tuple[Any, list[Any]]:
    """The service and the staff members, made once; the days off move with the window."""
    from appointment.models import Config, DayOff, Service, StaffMember, WorkingHours
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    if not Config.objects.exists():
        Config.objects.create(slot_duration=SLOT_MINUTES, lead_time=OPENS, finish_time=CLOSES)
    service, _ = Service.objects.get_or_create(
        name=SERVICE_NAME,
        defaults={"duration": datetime.timedelta(minutes=SLOT_MINUTES), "price": 0},
    )
    staff = []
    for n in range(STAFF):
        user, _ = user_model.objects.get_or_create(
            username=f"{STAFF_PREFIX}{n:02d}",
            defaults={
                "email": f"staff{n}@peer.example.org",
                "first_name": "Staff",
                "last_name": f"N{n}",
            },
        )
        member, created = StaffMember.objects.get_or_create(
            user=user,
            defaults={"slot_duration": SLOT_MINUTES, "lead_time": OPENS, "finish_time": CLOSES},
        )
        if created:
            member.services_offered.add(service)
            for day in WEEKDAYS:
                WorkingHours.objects.create(
                    staff_member=member, day_of_week=day, start_time=OPENS, end_time=CLOSES
                )
        DayOff.objects.filter(staff_member=member).delete()
        off = _working_days(first_day, 7)[n % len(WEEKDAYS)]
        DayOff.objects.create(
            staff_member=member, start_date=off, end_date=off, description="bench"
        )
        staff.append(member)
    return service, staff


def _working_days(first_day: datetime.date, days: int) -> list[datetime.date]:
    """The days from ``first_day`` on that the staff work (isoweekday 7 is Sunday, 0 here)."""
    dates = (first_day + datetime.timedelta(days=n) for n in range(days))
    return [d for d in dates if d.isoweekday() % 7 in WEEKDAYS]


def _clients(count: int) -> list[str]:
    """``count`` logged-in clients; returns their session keys."""
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    user_model = get_user_model()
    existing = set(
        user_model.objects.filter(username__startswith=CLIENT_PREFIX).values_list(
            "username", flat=True
        )
    )
    user_model.objects.bulk_create(
        user_model(
            username=f"{CLIENT_PREFIX}{n:04d}",
            email=f"client{n}@peer.example.org",
            first_name="Client",
            last_name=f"N{n}",
            password="!",  # unusable: the bench logs them in with sessions, not passwords
        )
        for n in range(count)
        if f"{CLIENT_PREFIX}{n:04d}" not in existing
    )
    users = {u.username: u for u in user_model.objects.filter(username__startswith=CLIENT_PREFIX)}
    keys = []
    for n in range(count):
        user = users[f"{CLIENT_PREFIX}{n:04d}"]
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        keys.append(str(session.session_key))
    return keys


def _slots(service: Any, staff: list[Any], first_day: datetime.date) -> list[list[Any]]:
    """Every slot django-appointment offers for the service in the window, as
    [staff id, date, start HH:MM, end HH:MM]."""
    from appointment.services import get_available_slots_for_staff
    from appointment.utils.db_helpers import get_weekday_num_from_date

    slots = []
    for offset in range(WINDOW_DAYS):
        day = first_day + datetime.timedelta(days=offset)
        weekday = get_weekday_num_from_date(day)
        for member in staff:
            for start in get_available_slots_for_staff(day, member, weekday, service=service):
                end = start + service.duration
                slots.append([member.pk, day.isoformat(), f"{start:%H:%M}", f"{end:%H:%M}"])
    return slots


def prepare(count: int, out: Path) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    # django-appointment ships no migrations: its README has the project make them (they land
    # in the package inside the peer's venv, and are made once).
    call_command("makemigrations", "appointment", verbosity=0)
    call_command("migrate", verbosity=0)
    _reset()
    first_day = timezone.localdate() + datetime.timedelta(days=1)
    service, staff = _clinic(first_day)
    slots = _slots(service, staff, first_day)
    if len(slots) < count:
        raise SystemExit(f"only {len(slots)} bookable slots in the peer, {count} wanted")
    chosen = random.Random(7).sample(slots, count)
    out.write_text(
        json.dumps(
            {
                "service": service.pk,
                "bookable": len(slots),
                "slots": chosen,
                "sessions": _clients(count),
                "session_cookie": settings.SESSION_COOKIE_NAME,
                "csrf_cookie": settings.CSRF_COOKIE_NAME,
            }
        )
    )


def count() -> None:
    """How many appointments the bookings created, and on how many distinct slots."""
    from appointment.models import Appointment, AppointmentRequest

    appointments = Appointment.objects.count()
    distinct = (
        Appointment.objects.values_list(
            "appointment_request__staff_member",
            "appointment_request__date",
            "appointment_request__start_time",
        )
        .distinct()
        .count()
    )
    print(
        json.dumps(
            {
                "appointments": appointments,
                "distinct_slots": distinct,
                "requests": AppointmentRequest.objects.count(),
            }
        )
    )


def main(argv: list[str]) -> int:
    _setup()
    if argv[:1] == ["prepare"] and len(argv) == 3:
        prepare(int(argv[1]), Path(argv[2]))
    elif argv == ["count"]:
        count()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
