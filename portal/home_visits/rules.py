"""The rules of a home visit, each in one function the pages, the workspace and the API
all call (docs/home-visits.md). A rule returns a refusal code of `errors.ERRORS` or None,
or computes the one value it decides (the day, the district)."""

import datetime
import re
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.directory.models import Clinic
from portal.home_visits.models import ClinicHomeVisitSettings, HomeVisit
from portal.patients.models import Patient

DEFAULT_CUTOFF_HOUR = 12
DEFAULT_WEEKDAYS = "12345"

# The reason checklist of the form («что беспокоит»).
SYMPTOMS = {
    "fever": _("температура"),
    "cough": _("кашель"),
    "throat": _("боль в горле"),
    "rash": _("сыпь"),
    "other": pgettext_lazy("symptom", "другое"),
}

# Red flags: the one list of signs that a home visit is the wrong help (docs/home-visits.md).
# Any of them stops the form and sends the person to 103/112.
RED_FLAGS = {
    "chest_pain": _("боль в груди"),
    "breathing": _("затруднённое дыхание, удушье"),
    "unconscious": _("потеря сознания"),
    "convulsions": _("судороги"),
    "bleeding": _("сильное кровотечение"),
}

# Letters, digits, spaces and the punctuation of Russian addresses; nothing that could be
# markup or a control character (a stored address is printed on the dispatcher's list).
_ADDRESS = re.compile(r"^[0-9A-Za-zА-Яа-яЁё .,\-/№()\"«»']+$")
_SHORT = re.compile(r"^[0-9A-Za-zА-Яа-яЁё \-#*/]*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
WINDOW_FIRST = datetime.time(8, 0)
WINDOW_LAST = datetime.time(21, 0)
WINDOW_MAX = datetime.timedelta(hours=6)


def local_now() -> datetime.datetime:
    from django.utils import timezone

    return timezone.now().astimezone(ZoneInfo(settings.TIME_ZONE))


def clinic_settings(clinic: Clinic) -> tuple[int, str]:
    """The clinic's cut-off hour and working ISO weekdays, or the defaults."""
    row = ClinicHomeVisitSettings.objects.filter(clinic=clinic).first()
    if row is None:
        return DEFAULT_CUTOFF_HOUR, DEFAULT_WEEKDAYS
    return row.cutoff_hour, row.working_weekdays or DEFAULT_WEEKDAYS


def is_working_day(day: datetime.date, weekdays: str) -> bool:
    """A clinic's working weekday that is not a Russian public holiday (the same calendar
    slot generation skips)."""
    return str(day.isoweekday()) in weekdays and day not in holidays.country_holidays(
        "RU", years=day.year
    )


def next_working_day(weekdays: str, after: datetime.date) -> datetime.date:
    day = after + datetime.timedelta(days=1)
    for _step in range(60):  # the longest holidays are two weeks; a clinic works some day
        if is_working_day(day, weekdays):
            return day
        day += datetime.timedelta(days=1)
    return day


def visit_day(clinic: Clinic, now: datetime.datetime | None = None) -> datetime.date:
    """The day a request made ``now`` is for: today if it came before the clinic's cut-off
    hour on one of its working days, else the next working day (docs/home-visits.md)."""
    now = (now or local_now()).astimezone(ZoneInfo(settings.TIME_ZONE))
    cutoff, weekdays = clinic_settings(clinic)
    today = now.date()
    if now.hour < cutoff and is_working_day(today, weekdays):
        return today
    return next_working_day(weekdays, today)


def attachment_refusal(patient: Patient) -> str | None:
    """A request goes to the patient's clinic of attachment: none, nowhere to send it."""
    return "no_clinic" if patient.clinic_id is None else None


def district_of(patient: Patient) -> str:
    """The district (участок) a request goes to: the patient's from the registry; empty
    when the registry names none (the dispatcher then sees it under «участок не указан»)."""
    return patient.area


def red_flag_refusal(flags: list[str]) -> str | None:
    return "red_flag" if any(flag in RED_FLAGS for flag in flags) else None


def open_request_refusal(patient_id: int) -> str | None:
    """One open request per patient (the database's constraint holds it too)."""
    exists = HomeVisit.objects.filter(patient_id=patient_id, state__in=HomeVisit.OPEN_STATES)
    return "already_open" if exists.exists() else None


def patient_cancel_refusal(visit: HomeVisit, now: datetime.datetime | None = None) -> str | None:
    """The applicant may cancel until a doctor is on the way: once the assigned window
    has begun on the visit's day, only the clinic can."""
    if not visit.is_open:
        return "not_open"
    if visit.state == HomeVisit.State.ASSIGNED and visit.window_start is not None:
        now = (now or local_now()).astimezone(ZoneInfo(settings.TIME_ZONE))
        starts = datetime.datetime.combine(
            visit.day, visit.window_start, tzinfo=ZoneInfo(settings.TIME_ZONE)
        )
        if now >= starts:
            return "doctor_on_way"
    return None


def window_refusal(start: datetime.time | None, end: datetime.time | None) -> str | None:
    if start is None or end is None or not (WINDOW_FIRST <= start < end <= WINDOW_LAST):
        return "window_bad"
    span = datetime.datetime.combine(datetime.date.min, end) - datetime.datetime.combine(
        datetime.date.min, start
    )
    return "window_bad" if span > WINDOW_MAX else None


def address_refusal(address: str, parts: dict[str, str]) -> str | None:
    """The address and its parts, as hostile input may send them."""
    if not (5 <= len(address) <= 300) or not _ADDRESS.match(address):
        return "address_bad"
    for name, value in parts.items():
        limit = 20 if name == "intercom" else 10
        if len(value) > limit or not _SHORT.match(value):
            return "field_bad"
    return None


def phone_normalized(raw: str) -> str | None:
    """+7XXXXXXXXXX from what a person types, or None."""
    digits = re.sub(r"[\s()\-]", "", raw)
    if digits.startswith("+7"):
        digits = digits[2:]
    elif digits.startswith("8") and len(digits) == 11:
        digits = digits[1:]
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return None
    return "+7" + digits


def temperature_parsed(raw: str) -> tuple[Decimal | None, str | None]:
    """The temperature (optional) and a refusal code if it is not a plausible one."""
    raw = raw.strip().replace(",", ".")
    if not raw:
        return None, None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None, "temperature_bad"
    if not value.is_finite() or not (Decimal(34) <= value <= Decimal(43)):
        return None, "temperature_bad"
    return value.quantize(Decimal("0.1")), None


def reason_refusal(symptoms: list[str], details: str) -> str | None:
    if any(code not in SYMPTOMS for code in symptoms):
        return "symptom_unknown"
    if len(details) > 1000 or _CONTROL.search(details.replace("\n", " ").replace("\r", " ")):
        return "details_bad"
    if not symptoms and not details.strip():
        return "symptoms_required"
    return None
