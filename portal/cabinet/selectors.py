"""What the cabinet home shows for the person acted for (docs/architecture.md, «cabinet»).

Every part is read through the selector of the app that owns it, so the home shows
exactly what «Мои записи», «Лист ожидания», «Предложения времени», «Запись при открытии
дня» and «Уведомления» show, narrowed to the patient the cabinet acts for.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, QuerySet
from django.utils import timezone

from portal.home_visits.models import HomeVisit
from portal.home_visits.selectors import visits_seen, visits_visible_to
from portal.identity.models import User
from portal.notifications.selectors import messages_unread, unread_count
from portal.patients.models import Patient
from portal.patients.rules import coming_of_age_day
from portal.patients.selectors import (
    Visibility,
    VisibleRows,
    children_acted_for,
    patient_booking_refusal,
)
from portal.release.models import BallotRequest
from portal.release.selectors import requests_of_patient, requests_seen
from portal.scheduling.models import Appointment
from portal.scheduling.selectors import appointments_of_rows, upcoming_read
from portal.waitlist.models import Offer
from portal.waitlist.selectors import (
    EntryInLine,
    entries_list_for_user,
    entries_live,
    offers_live,
    offers_live_for_user,
)

# The home shows the nearest few; the full lists are one link away.
UPCOMING_SHOWN = 5
VISITS_SHOWN = 3


@dataclass(frozen=True)
class ChildCard:
    """A child on a parent's home: whom to book for and what needs the parent's attention."""

    child: Patient
    refusal: str | None  # why the cabinet may not book for them now (the booking's own text)
    coming_of_age: datetime.date | None  # the CHILD_MAX_AGE birthday within the window
    upcoming: int  # their booked appointments to come


@dataclass(frozen=True)
class Home:
    patient: Patient
    upcoming: list[Appointment]
    upcoming_more: int
    offers: list[Offer]
    entries: list[EntryInLine]
    requests: list[BallotRequest]
    unread: int
    visits: list[HomeVisit] = field(default_factory=list)
    children: list[ChildCard] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.upcoming or self.offers or self.entries or self.requests)


_LOOK_NAMES = ("has_offers", "has_entries", "has_visits", "has_requests", "has_unread")


def _look_at(
    seen: Visibility, acting_id: int, now: datetime.datetime, today: datetime.date
) -> dict[str, Exists]:
    """Whether the user has live offers, live waitlist entries, home visits, and whether
    the patient acted for has pending requests for a day's opening and unread
    notifications: each app's own read (and the one rule of visibility) inside an EXISTS."""
    assert seen.actable.own is not None
    pending = requests_seen(seen).filter(patient_id=acting_id, status=BallotRequest.Status.PENDING)
    return {
        "has_offers": Exists(offers_live(seen, now)),
        "has_entries": Exists(entries_live(seen, today)),
        "has_visits": Exists(visits_seen(seen)),
        "has_requests": Exists(pending),
        "has_unread": Exists(messages_unread(seen.actable.own, acting_id, now)),
    }


def _look(
    seen: Visibility, acting_id: int, now: datetime.datetime, today: datetime.date
) -> "QuerySet[Patient, tuple[bool, bool, bool, bool, bool]]":
    """The look alone, for a home with no appointment to come."""
    assert seen.actable.own is not None
    return (
        Patient.objects.filter(pk=seen.actable.own)
        .annotate(**_look_at(seen, acting_id, now, today))
        .values_list(*_LOOK_NAMES)
    )


def _upcoming_and_look(
    seen: Visibility, acting_id: int, now: datetime.datetime, today: datetime.date
) -> "QuerySet[Appointment, tuple[Any, ...]]":
    """The appointments to come (scheduling's read), each row ending with the look: one
    statement where most homes sent two (docs/performance.md, «The cabinet in one read»)."""
    return upcoming_read(seen, now).annotate(**_look_at(seen, acting_id, now, today))


_LOOK = VisibleRows(_look)
_UPCOMING_AND_LOOK = VisibleRows(_upcoming_and_look)


@dataclass(frozen=True)
class _Sections:
    offers: bool
    entries: bool
    visits: bool
    requests: bool
    unread: bool


def _upcoming_and_sections(user: User, acting: Patient) -> tuple[list[Appointment], _Sections]:
    """The user's appointments to come (as `appointments_list_upcoming_for_user`) and which
    of the lists that most patients do not have the home needs to read."""
    now = timezone.now()
    today = timezone.localdate(now)
    rows = _UPCOMING_AND_LOOK.rows(user, acting.pk, now, today)
    if rows:
        width = len(_LOOK_NAMES)
        return appointments_of_rows(user, rows), _Sections(*(bool(v) for v in rows[0][-width:]))
    look = _LOOK.rows(user, acting.pk, now, today)
    return [], _Sections(*(bool(v) for v in look[0])) if look else _Sections(*[False] * 5)


def home_for(user: User, own: Patient, acting: Patient) -> Home:
    """The cabinet home of ``acting`` as ``user`` may see it: the appointments to come with
    a look at which other lists there are, then only those that are (docs/performance.md,
    issue 25)."""
    upcoming_all, has = _upcoming_and_sections(user, acting)
    mine = [a for a in upcoming_all if a.patient_id == acting.pk]
    live_offers = offers_live_for_user(user) if has.offers else []
    entries = entries_list_for_user(user) if has.entries else []
    requests = (
        list(
            requests_of_patient(acting, user)
            .filter(status=BallotRequest.Status.PENDING)
            .order_by("ballot__opens_at", "pk")
        )
        if has.requests
        else []
    )
    return Home(
        patient=acting,
        upcoming=mine[:UPCOMING_SHOWN],
        upcoming_more=max(0, len(mine) - UPCOMING_SHOWN),
        offers=[o for o in live_offers if o.patient_id == acting.pk],
        entries=[e for e in entries if e.entry.patient_id == acting.pk],
        visits=list(visits_visible_to(user)[:VISITS_SHOWN]) if has.visits else [],
        requests=requests,
        unread=unread_count(own, acting) if has.unread else 0,
        children=_children(user, own, upcoming_all) if acting.pk == own.pk else [],
    )


def _children(user: User, own: Patient, upcoming: list[Appointment]) -> list[ChildCard]:
    return [
        ChildCard(
            child=child,
            refusal=patient_booking_refusal(own, child),
            coming_of_age=coming_of_age_day(child),
            upcoming=sum(1 for a in upcoming if a.patient_id == child.pk),
        )
        for child in children_acted_for(user, own)
    ]
