"""A schedule change, before and while it is published: the checks of a weekly rule and the
pure function that says which slots a new set of rules creates, changes and removes.

Nothing here writes. The preview page and the booking service's `schedule_publish`
(which runs `schedule_diff` again under the slot locks) call the same functions, so the
clerk confirms exactly what will be done (docs/workspace.md, «Schedules»).

How a change treats what exists (docs/concurrency.md, «Writers of booking state»):

- a slot the new rules produce with the same start and end stays (its opening moment
  follows the rule);
- a free or blocked slot at the start of a new slot of another length or opening is
  rewritten to the new slot (the row is reused: (doctor, start) is unique);
- a free slot the new rules no longer produce is **blocked**, not deleted: rows of
  cancelled appointments and offers may point at it, and a blocked slot is invisible
  to every search and refused by every booking;
- a booked slot whose time still lies inside the new working hours stays booked (new
  slots overlapping it are not created); any other booked slot is listed, and publishing
  cancels its appointment by the clinic as an absence does.
"""

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from portal.scheduling.models import ScheduleRule, Slot
from portal.scheduling.slot_generation import SlotRow, _slots_of_rule

SLOT_MINUTES_MIN = 5
SLOT_MINUTES_MAX = 120
DAYS_AHEAD_MIN = 1
DAYS_AHEAD_MAX = 60

# --- checks of one weekly rule ------------------------------------------------------------

PROBLEMS = {
    "weekdays": _("Отметьте хотя бы один день недели."),
    "hours_order": _("Конец приёма должен быть позже начала. Исправьте время."),
    "break_half": _("Укажите и начало, и конец перерыва — или оставьте оба поля пустыми."),
    "break_order": _("Конец перерыва должен быть позже его начала."),
    "break_outside": _("Перерыв должен быть внутри часов приёма. Исправьте время перерыва."),
    "slot_range": _("Длительность приёма — от 5 до 120 минут."),
    "slot_fits": _(
        "В часы приёма не помещается ни одного приёма такой длительности. Уменьшите "
        "длительность или увеличьте часы."
    ),
    "days_ahead_range": _("Запись открывается не раньше чем за 1 и не позже чем за 60 дней."),
    "valid_order": _("Дата окончания правила раньше даты начала. Исправьте одну из дат."),
    "overlap": _(
        "Это правило пересекается с другим правилом врача по дням и часам. Измените часы "
        "или дни, или завершите другое правило."
    ),
    "valid_past": _(
        "Правило не может закончиться раньше вчерашнего дня: прошедшие дни не меняются."
    ),
}


class RuleValues(Protocol):
    """A weekly rule's values: a saved ScheduleRule or a draft being previewed."""

    @property
    def weekdays(self) -> str: ...
    @property
    def start_time(self) -> datetime.time: ...
    @property
    def end_time(self) -> datetime.time: ...
    @property
    def break_start(self) -> datetime.time | None: ...
    @property
    def break_end(self) -> datetime.time | None: ...
    @property
    def slot_minutes(self) -> int: ...
    @property
    def days_ahead(self) -> int: ...
    @property
    def opens_at(self) -> datetime.time: ...
    @property
    def valid_from(self) -> datetime.date | None: ...
    @property
    def valid_until(self) -> datetime.date | None: ...


def _minutes(moment: datetime.time) -> int:
    return moment.hour * 60 + moment.minute


def rule_problems(rule: RuleValues, today: datetime.date) -> dict[str, str]:
    """What is wrong with a weekly rule, by field: empty if it can be published.

    The one check of a rule: the form shows it, `schedule_publish` refuses with it.
    """
    problems: dict[str, str] = {}
    days = set(rule.weekdays)
    if not days or not days <= set("1234567"):
        problems["weekdays"] = str(PROBLEMS["weekdays"])
    if rule.end_time <= rule.start_time:
        problems["end_time"] = str(PROBLEMS["hours_order"])
    if (rule.break_start is None) != (rule.break_end is None):
        problems["break_end"] = str(PROBLEMS["break_half"])
    elif rule.break_start is not None and rule.break_end is not None:
        if rule.break_end <= rule.break_start:
            problems["break_end"] = str(PROBLEMS["break_order"])
        elif rule.break_start < rule.start_time or rule.break_end > rule.end_time:
            problems["break_start"] = str(PROBLEMS["break_outside"])
    if not SLOT_MINUTES_MIN <= rule.slot_minutes <= SLOT_MINUTES_MAX:
        problems["slot_minutes"] = str(PROBLEMS["slot_range"])
    elif "end_time" not in problems and not problems.keys() & {"break_start", "break_end"}:
        working = _minutes(rule.end_time) - _minutes(rule.start_time)
        if rule.break_start is not None and rule.break_end is not None:
            before = _minutes(rule.break_start) - _minutes(rule.start_time)
            after = _minutes(rule.end_time) - _minutes(rule.break_end)
            working = max(before, after)
        if working < rule.slot_minutes:
            problems["slot_minutes"] = str(PROBLEMS["slot_fits"])
    if not DAYS_AHEAD_MIN <= rule.days_ahead <= DAYS_AHEAD_MAX:
        problems["days_ahead"] = str(PROBLEMS["days_ahead_range"])
    if rule.valid_from and rule.valid_until and rule.valid_until < rule.valid_from:
        problems["valid_until"] = str(PROBLEMS["valid_order"])
    elif rule.valid_until and rule.valid_until < today - datetime.timedelta(days=1):
        problems["valid_until"] = str(PROBLEMS["valid_past"])
    return problems


def _dates_meet(a: RuleValues, b: RuleValues) -> bool:
    lo = max(a.valid_from or datetime.date.min, b.valid_from or datetime.date.min)
    hi = min(a.valid_until or datetime.date.max, b.valid_until or datetime.date.max)
    return lo <= hi


def rules_overlap(rule: RuleValues, others: Iterable[RuleValues]) -> bool:
    """Whether ``rule`` shares a weekday, an hour and a date with another rule of the
    doctor: two rules cutting the same hours into slots would give one doctor two
    patients at once."""
    return any(
        set(rule.weekdays) & set(other.weekdays)
        and rule.start_time < other.end_time
        and other.start_time < rule.end_time
        and _dates_meet(rule, other)
        for other in others
    )


# --- what a set of rules changes --------------------------------------------------------


@dataclass(frozen=True)
class ExistingSlot:
    """A slot as the diff sees it: plain values, so the function needs no database."""

    pk: int
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    status: str
    opens_at: datetime.datetime


@dataclass(frozen=True)
class Retimed:
    pk: int
    ends_at: datetime.datetime
    status: str
    opens_at: datetime.datetime


@dataclass
class ScheduleDiff:
    """What publishing a set of rules does to one doctor's future slots."""

    create: list[SlotRow] = field(default_factory=list)
    retime: list[Retimed] = field(default_factory=list)  # rows reused for a new slot
    block: list[int] = field(default_factory=list)  # free slots no longer in the rules
    cancel: list[int] = field(default_factory=list)  # booked slots whose appointment ends
    kept_booked: int = 0  # booked slots kept because their time is still worked
    first_day: datetime.date | None = None
    last_day: datetime.date | None = None

    @property
    def changes_anything(self) -> bool:
        return bool(self.create or self.retime or self.block or self.cancel)


def horizon_days(
    rules: Iterable[RuleValues], today: datetime.date, existing: Sequence[ExistingSlot]
) -> list[datetime.date]:
    """The days a publish looks at: from today through the slot generation's horizon,
    the longest booking horizon of the rules, and the last existing slot."""
    tz = ZoneInfo(settings.TIME_ZONE)
    span = max([settings.SCHEDULING_HORIZON_DAYS + 2, *(r.days_ahead + 1 for r in rules)])
    last = today + datetime.timedelta(days=span - 1)
    if existing:
        last = max(last, max(s.starts_at for s in existing).astimezone(tz).date())
    return [today + datetime.timedelta(days=n) for n in range((last - today).days + 1)]


def _as_rule(doctor_id: int, values: RuleValues) -> ScheduleRule:
    """An unsaved rule with these values (slot generation reads a rule's attributes)."""
    return ScheduleRule(
        doctor_id=doctor_id,
        weekdays=values.weekdays,
        start_time=values.start_time,
        end_time=values.end_time,
        break_start=values.break_start,
        break_end=values.break_end,
        slot_minutes=values.slot_minutes,
        days_ahead=values.days_ahead,
        opens_at=values.opens_at,
        valid_from=values.valid_from,
        valid_until=values.valid_until,
    )


def _worked(rules: Sequence[ScheduleRule], slot: ExistingSlot, tz: datetime.tzinfo) -> bool:
    """Whether the slot's whole time lies inside some rule's hours outside its break."""
    start, end = slot.starts_at.astimezone(tz), slot.ends_at.astimezone(tz)
    if start.date() != end.date():
        return False  # rules never cross midnight
    for rule in rules:
        if not rule.applies_on(start.date()):
            continue
        if start.time() < rule.start_time or end.time() > rule.end_time:
            continue
        if (
            rule.break_start
            and rule.break_end
            and start.time() < rule.break_end
            and end.time() > rule.break_start
        ):
            continue
        return True
    return False


def _same_end(row: SlotRow | None, slot: ExistingSlot) -> bool:
    return row is not None and row[2] == slot.ends_at


def schedule_diff(
    *,
    doctor_id: int,
    rules: Sequence[RuleValues],
    existing: Sequence[ExistingSlot],
    absences: Sequence[tuple[datetime.date, datetime.date]],
    today: datetime.date,
    now: datetime.datetime,
) -> ScheduleDiff:
    """What publishing ``rules`` (the doctor's whole set of weekly rules after the change)
    does to ``existing`` (the doctor's slots that have not started yet).

    Pure: the same inputs give the same answer, in the preview and under the locks.
    Russian public holidays get no slots, days of an absence get blocked ones, exactly as
    `slot_generation.slots_generate` makes them.
    """
    tz = ZoneInfo(settings.TIME_ZONE)
    days = horizon_days(rules, today, existing)
    public_holidays = holidays.country_holidays("RU", years={d.year for d in days})
    work_days = [d for d in days if d not in public_holidays]
    models = [_as_rule(doctor_id, values) for values in rules]
    wanted: dict[datetime.datetime, SlotRow] = {}
    for model in models:
        for row in _slots_of_rule(model, work_days, list(absences), tz):
            if row[1] > now:
                wanted.setdefault(row[1], row)
    by_start = {slot.starts_at: slot for slot in existing}
    diff = ScheduleDiff(first_day=days[0], last_day=days[-1])

    kept_booked: list[ExistingSlot] = []
    for slot in existing:
        if slot.status != Slot.Status.BOOKED:
            continue
        exact = _same_end(wanted.get(slot.starts_at), slot)
        # Holidays are not worked: a booked slot on one is listed, like any unworked time.
        holiday = slot.starts_at.astimezone(tz).date() in public_holidays
        if exact or (not holiday and _worked(models, slot, tz)):
            kept_booked.append(slot)
        else:
            diff.cancel.append(slot.pk)
    diff.kept_booked = len(
        [slot for slot in kept_booked if not _same_end(wanted.get(slot.starts_at), slot)]
    )

    def overlaps_kept(row: SlotRow) -> bool:
        return any(row[1] < slot.ends_at and slot.starts_at < row[2] for slot in kept_booked)

    reused: set[int] = set()
    for start, row in sorted(wanted.items()):
        current = by_start.get(start)
        if current is not None and current.status == Slot.Status.BOOKED:
            continue  # kept (exact) or cancelled above; its row is not reused
        if overlaps_kept(row):
            continue
        if current is None:
            diff.create.append(row)
            continue
        reused.add(current.pk)
        if (current.ends_at, current.status, current.opens_at) != (row[2], row[3], row[4]):
            diff.retime.append(Retimed(current.pk, row[2], row[3], row[4]))
    diff.block = [
        slot.pk for slot in existing if slot.status == Slot.Status.FREE and slot.pk not in reused
    ]
    return diff
