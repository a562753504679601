"""Reads of the waitlist and the offers (docs/waitlist.md).

Who sees what mirrors the appointments (`patients.selectors.appointments_visible_to`):
everything of the user's own record and of verified children; of a child under an
unverified guardianship only the entries the user made and the offers they led to.
"""

import datetime
from collections.abc import Collection
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import IntegerField, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from portal.directory.models import Doctor
from portal.identity.models import User
from portal.patients.selectors import Visibility, VisibleRows, visibility_for
from portal.scheduling.models import Slot
from portal.scheduling.selectors import bookable_q
from portal.waitlist.models import Offer, TimeOfDay, WaitlistEntry, band_of


def _entries_visible_q(user: User) -> Q:
    return _entries_seen_q(visibility_for(user))


def _entries_seen_q(seen: Visibility) -> Q:
    """The one rule of visibility (`patients.selectors.Visibility`): of a child under an
    unverified guardianship, only the entries this user made."""
    return seen.records(author="created_by_id")


def _offers_visible_q(user: User) -> Q:
    return _offers_seen_q(visibility_for(user))


def _offers_seen_q(seen: Visibility) -> Q:
    """Of a child under an unverified guardianship, only the offers of this user's entries
    or of the times this user's own bookings gave back."""
    return seen.records(author=("entry__created_by_id", "cancelled__booked_by_id"))


def entries_live(seen: Visibility, today: datetime.date) -> QuerySet[WaitlistEntry]:
    """The live entries a user sees (``seen``: their `Visibility`): the list below and the
    cabinet's look whether there are any."""
    return WaitlistEntry.objects.filter(
        _entries_seen_q(seen), status__in=WaitlistEntry.LIVE, date_to__gte=today
    )


def offers_live(seen: Visibility, now: datetime.datetime) -> QuerySet[Offer]:
    """The live offers a user sees: the list below and the cabinet's look."""
    return Offer.objects.filter(
        _offers_seen_q(seen), status=Offer.Status.OFFERED, expires_at__gt=now
    )


# --- entries ------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryInLine:
    entry: WaitlistEntry
    ahead: int  # live entries of the same clinic and specialty that joined earlier
    offered: bool = False  # a live offer is out for it (a lapsed one does not count)

    @property
    def place(self) -> int:
        return self.ahead + 1

    @property
    def bands(self) -> list[str]:
        """The parts of the day, as the patient reads them."""
        return [str(TimeOfDay(band).label) for band in self.entry.time_bands]


def entries_list_for_user(user: User) -> list[EntryInLine]:
    """The user's and their children's live entries, each with its place in line.

    The entries, their live offers, and one count per entry (a family has a handful).
    """
    entries = list(
        entries_live(visibility_for(user), timezone.localdate()).select_related(
            "patient", "clinic", "specialty", "doctor"
        )
    )
    offered = set(
        Offer.objects.filter(
            entry__in=entries, status=Offer.Status.OFFERED, expires_at__gt=timezone.now()
        ).values_list("entry_id", flat=True)
    )
    return [
        EntryInLine(entry, entry_ahead_count(entry), offered=entry.pk in offered)
        for entry in entries
    ]


def entry_ahead_count(entry: WaitlistEntry) -> int:
    """How many live entries that compete for the same times joined before this one: the
    same clinic and specialty, dates that overlap, and a doctor that can be the same (any
    doctor, or this one). Issue 27: the count included people waiting for other dates and
    other doctors, who never stand before this patient.

    A lapsed entry (its dates are over) no longer counts, whether or not the sweep has
    marked it.
    """
    same_doctor = Q(doctor__isnull=True) | Q(doctor_id=entry.doctor_id)
    return (
        WaitlistEntry.objects.filter(
            clinic_id=entry.clinic_id,
            specialty_id=entry.specialty_id,
            status__in=WaitlistEntry.LIVE,
            date_to__gte=max(timezone.localdate(), entry.date_from),
            date_from__lte=entry.date_to,
        )
        .filter(same_doctor if entry.doctor_id is not None else Q())
        .filter(
            Q(created_at__lt=entry.created_at) | Q(created_at=entry.created_at, pk__lt=entry.pk)
        )
        .count()
    )


def entry_get_for_user(user: User, entry_id: int) -> WaitlistEntry:
    """One place that fetches an entry and checks the user may see it (else 404)."""
    entry = (
        WaitlistEntry.objects.filter(_entries_visible_q(user), pk=entry_id)
        .select_related("patient", "clinic", "specialty", "doctor")
        .first()
    )
    if entry is None:
        raise Http404
    return entry


# --- offers -------------------------------------------------------------------------


_OFFER_RELATED = (
    "patient", "slot__doctor__clinic", "slot__doctor__specialty", "cancelled", "appointment"
)  # fmt: skip


def _offers_of_user(user: User) -> QuerySet[Offer]:
    return Offer.objects.filter(_offers_visible_q(user)).select_related(*_OFFER_RELATED)


def offers_live_for_user(user: User) -> list[Offer]:
    """Live offers, soonest expiry first (the cabinet home shows only these)."""
    return list(
        offers_live(visibility_for(user), timezone.now())
        .select_related(*_OFFER_RELATED)
        .order_by("expires_at")
    )


def offers_list_for_user(user: User) -> tuple[list[Offer], list[Offer]]:
    """Live offers (soonest expiry first), and the last 20 answered or lapsed ones."""
    live = offers_live_for_user(user)
    rows = _offers_of_user(user)
    others = list(rows.exclude(pk__in=[o.pk for o in live]).order_by("-created_at", "-pk")[:20])
    return live, others


_LIVE_OFFERS = VisibleRows(lambda seen, now: offers_live(seen, now).values_list("pk"))


class _Count(Subquery):
    """How many rows a subquery finds (0 for none), as one value of the outer row."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _rows)"
    output_field = IntegerField()


# The name «Мои записи»'s read carries the count under (`apps.WaitlistConfig.ready`).
OFFERS_LIVE = "offers_live"


def offers_live_count(seen: Visibility, now: datetime.datetime) -> _Count:
    """How many live offers ``seen`` sees, as an expression: «Мои записи» reads it in its
    own list's statement (`apps.WaitlistConfig.ready`)."""
    return _Count(offers_live(seen, now).order_by().values("pk"))


def offers_live_count_for_user(user: User) -> int:
    """How many live offers the user sees («Мои записи» says so): their ids, by a
    statement compiled once (`patients.selectors.VisibleRows`); a family has a handful."""
    return len(_LIVE_OFFERS.rows(user, timezone.now()))


def offer_get_for_user(user: User, offer_id: int) -> Offer:
    """One place that fetches an offer and checks the user may see it (else 404)."""
    offer = _offers_of_user(user).filter(pk=offer_id).first()
    if offer is None:
        raise Http404
    return offer


def offer_live_for_slot(slot_id: int, now: datetime.datetime) -> Offer | None:
    return Offer.objects.filter(
        slot_id=slot_id, status=Offer.Status.OFFERED, expires_at__gt=now
    ).first()


# --- matching a freed slot ------------------------------------------------------------


def entries_matching_slot(
    slot: Slot, *, limit: int = 20, after: tuple[datetime.datetime, int] | None = None
) -> list[WaitlistEntry]:
    """The waiting entries a slot fits, first come first served (docs/waitlist.md).

    Fits: the slot's clinic and specialty, the entry's doctor if it named one, the
    slot's local date inside the entry's dates and its local time in one of the entry's
    parts of the day (none chosen: any). Entries with an offer out, and patients who
    were already offered this very slot, are left out. One indexed query
    (`waitlist_entry_queue`); the booking rules are re-checked by the caller.
    """
    local = slot.starts_at.astimezone(ZoneInfo(settings.TIME_ZONE))
    doctor = slot.doctor
    rows = (
        WaitlistEntry.objects.filter(
            clinic_id=doctor.clinic_id,
            specialty_id=doctor.specialty_id,
            status=WaitlistEntry.Status.WAITING,
            date_from__lte=local.date(),
            date_to__gte=local.date(),
        )
        .filter(Q(doctor_id__isnull=True) | Q(doctor_id=doctor.pk))
        .filter(Q(times="") | Q(times__contains=band_of(local)))
        .exclude(patient_id__in=Offer.objects.filter(slot_id=slot.pk).values("patient_id"))
        # The rules read the patient's own columns only (age, policy, attachment id).
        .select_related("patient")
        .defer("patient__esia_kids")
        .order_by("created_at", "pk")
    )
    if after is not None:
        rows = rows.filter(Q(created_at__gt=after[0]) | Q(created_at=after[0], pk__gt=after[1]))
    return list(rows[:limit])


def slots_for_rebook(
    doctor_id: int, clinic_id: int, specialty_id: int, *, exclude_slot: int, limit: int = 30
) -> list[Slot]:
    """Bookable slots for a rebook: the same doctor's first, then colleagues' of the same
    specialty at the same clinic, each in time order (two queries)."""
    now = timezone.now()
    rows = (
        Slot.objects.filter(bookable_q(now), doctor__is_active=True)
        .exclude(pk=exclude_slot)
        .select_related("doctor__clinic", "doctor__specialty")
        .order_by("starts_at")
    )
    own = list(rows.filter(doctor_id=doctor_id)[:limit])
    colleagues = list(
        rows.filter(doctor__clinic_id=clinic_id, doctor__specialty_id=specialty_id).exclude(
            doctor_id=doctor_id
        )[:limit]
    )
    return own + colleagues


def slots_free_for_entry(entry: WaitlistEntry, *, limit: int) -> list[int]:
    """Bookable slots that fit an entry (its place, doctor, dates, parts of the day),
    earliest first."""
    tz = ZoneInfo(settings.TIME_ZONE)
    since = datetime.datetime.combine(entry.date_from, datetime.time.min, tzinfo=tz)
    until = datetime.datetime.combine(
        entry.date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    rows = Slot.objects.filter(
        bookable_q(timezone.now()),
        doctor__clinic_id=entry.clinic_id,
        doctor__specialty_id=entry.specialty_id,
        doctor__is_active=True,
        starts_at__gte=since,
        starts_at__lt=until,
    ).order_by("starts_at")
    if entry.doctor_id is not None:
        rows = rows.filter(doctor_id=entry.doctor_id)
    bands = entry.time_bands
    found: list[int] = []
    # Parts of the day are local hours: filtered here, over a bounded number of rows.
    for slot_id, starts_at in rows.values_list("pk", "starts_at")[: limit * 20]:
        if not bands or band_of(starts_at.astimezone(tz)) in bands:
            found.append(slot_id)
            if len(found) == limit:
                break
    return found


def places_doctors(
    places: Collection[tuple[int, int]],
) -> dict[tuple[int, int], dict[int, Doctor]]:
    """Each (clinic, specialty)'s active doctors, by id, in one statement: a waitlist entry
    may name only one of them, and a place without any takes no entries."""
    found: dict[tuple[int, int], dict[int, Doctor]] = {place: {} for place in places}
    if not found:
        return found
    doctors = Doctor.objects.filter(
        clinic_id__in={clinic for clinic, _ in found},
        specialty_id__in={specialty for _, specialty in found},
        is_active=True,
    )
    for doctor in doctors:
        if (place := (doctor.clinic_id, doctor.specialty_id)) in found:
            found[place][doctor.pk] = doctor
    return found
