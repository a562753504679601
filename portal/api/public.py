"""Public, read-only directory and free time: search and read of each resource type.

Every function takes the query (a QueryDict) and returns a queryset plus a renderer;
the views page them into Bundles. The directory is public on the site too.
"""

import datetime
from collections.abc import Callable
from typing import Any

from django.db import router
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from portal.api import resources, search
from portal.api.outcomes import api_error
from portal.api.queries import Clinic, Doctor, Slot, Specialty, bookable_q, specialty_cached
from portal.core.rows import built

Render = Callable[[Any], dict[str, Any]]
Search = Callable[[QueryDict], tuple["QuerySet[Any] | EarliestFirst", Render]]
Read = Callable[[str], dict[str, Any]]


def _int_id(rid: str) -> int:
    number = search.id_of(rid)
    if number is None:
        raise api_error(404, "not_found")
    return number


def _clinics(query: QueryDict) -> QuerySet[Clinic]:
    rows = Clinic.objects.select_related("district").order_by("short_name", "pk")
    if (wanted := search.ids(query, "_id")) is not None:
        rows = rows.filter(pk__in=wanted)
    for name in search.values(query, "name"):
        rows = rows.filter(Q(short_name__icontains=name) | Q(full_name__icontains=name))
    for district in search.values(query, "district"):
        rows = rows.filter(district__name__iexact=district.strip())
    return rows


def organization_search(query: QueryDict) -> tuple[QuerySet[Any], Render]:
    return _clinics(query), resources.organization


def location_search(query: QueryDict) -> tuple[QuerySet[Any], Render]:
    rows = _clinics(query)
    if (orgs := search.ids(query, "organization", "Organization")) is not None:
        rows = rows.filter(pk__in=orgs)
    return rows, resources.location


def _clinic_read(rid: str) -> Clinic:
    clinic = Clinic.objects.select_related("district").filter(pk=_int_id(rid)).first()
    if clinic is None:
        raise api_error(404, "not_found")
    return clinic


def organization_read(rid: str) -> dict[str, Any]:
    return resources.organization(_clinic_read(rid))


def location_read(rid: str) -> dict[str, Any]:
    return resources.location(_clinic_read(rid))


def _doctors(query: QueryDict) -> QuerySet[Doctor]:
    rows = Doctor.objects.select_related("clinic__district", "specialty").order_by(
        "last_name", "first_name", "pk"
    )
    if (wanted := search.ids(query, "_id")) is not None:
        rows = rows.filter(pk__in=wanted)
    active = search.one(query, "active")
    if active is not None:
        if active not in ("true", "false"):
            raise search.invalid("active: ожидается true или false")
        rows = rows.filter(is_active=active == "true")
    if (orgs := search.ids(query, "organization", "Organization")) is not None:
        rows = rows.filter(clinic_id__in=orgs)
    if (codes := search.tokens(query, "specialty", "service-type")) is not None:
        rows = rows.filter(specialty__code__in=codes)
    for district in search.values(query, "district"):
        rows = rows.filter(clinic__district__name__iexact=district.strip())
    for name in search.values(query, "name") + search.values(query, "family"):
        rows = rows.filter(last_name__icontains=name)
    return rows


def practitioner_search(query: QueryDict) -> tuple[QuerySet[Any], Render]:
    return _doctors(query), resources.practitioner


def practitioner_role_search(query: QueryDict) -> tuple[QuerySet[Any], Render]:
    rows = _doctors(query)
    if (who := search.ids(query, "practitioner", "Practitioner")) is not None:
        rows = rows.filter(pk__in=who)
    return rows, resources.practitioner_role


def schedule_search(query: QueryDict) -> tuple[QuerySet[Any], Render]:
    rows = _doctors(query)
    if (actors := search.ids(query, "actor", "PractitionerRole")) is not None:
        rows = rows.filter(pk__in=actors)
    return rows, resources.schedule


def _doctor_read(rid: str) -> Doctor:
    doctor = (
        Doctor.objects.select_related("clinic__district", "specialty")
        .filter(pk=_int_id(rid))
        .first()
    )
    if doctor is None:
        raise api_error(404, "not_found")
    return doctor


def practitioner_read(rid: str) -> dict[str, Any]:
    return resources.practitioner(_doctor_read(rid))


def practitioner_role_read(rid: str) -> dict[str, Any]:
    return resources.practitioner_role(_doctor_read(rid))


def schedule_read(rid: str) -> dict[str, Any]:
    return resources.schedule(_doctor_read(rid))


def healthcare_service_search(query: QueryDict) -> tuple[QuerySet[Any], Render]:
    """A specialty at a clinic exists where the clinic has an active doctor of it.

    Rows are (clinic, specialty) pairs; the page's clinics and specialties are then
    read in two queries (`healthcare_services_of`), not two per row.
    """
    rows = _doctors(query).filter(is_active=True)
    ordered = rows.order_by("clinic__short_name", "clinic_id", "specialty__name", "specialty_id")
    pairs = ordered.values_list("clinic_id", "specialty_id").distinct()
    return pairs, lambda pair: resources.healthcare_service(*pair)


def healthcare_services_of(pairs: list[tuple[int, int]]) -> list[tuple[Clinic, Specialty]]:
    clinics = Clinic.objects.select_related("district").in_bulk({c for c, _ in pairs})
    specialties = Specialty.objects.in_bulk({s for _, s in pairs})
    return [(clinics[c], specialties[s]) for c, s in pairs]


def healthcare_service_read(rid: str) -> dict[str, Any]:
    clinic_part, _, specialty_part = rid.partition("-")
    clinic_id, specialty_id = _int_id(clinic_part), _int_id(specialty_part)
    doctor = (
        Doctor.objects.select_related("clinic__district", "specialty")
        .filter(clinic_id=clinic_id, specialty_id=specialty_id, is_active=True)
        .first()
    )
    if doctor is None:
        raise api_error(404, "not_found")
    return resources.healthcare_service(doctor.clinic, doctor.specialty)


SLOT_STATUS = {"free", "busy", "busy-unavailable"}
# How far ahead the slot search first looks, then further (None: no bound).
SLOT_WINDOWS = (
    datetime.timedelta(hours=2),
    datetime.timedelta(hours=8),
    datetime.timedelta(hours=32),
    datetime.timedelta(days=16),
    None,
)


class EarliestFirst:
    """Slots in start order, a page read through widening windows of time.

    A region's doctors of one specialty in one city hold some 17,000 free slots; sorting
    them all for the first twenty cost 22 ms of the database's time per search (docs/
    performance.md, issue 25). The slots that start before ``now + window`` are the first
    ones of the whole order (it is by start), so a page that the window fills is the page;
    one it does not fill is read again with a wider window, the last one without a bound.
    Each window is an index range per doctor (slot_doctor_start_unique).
    """

    def __init__(self, rows: QuerySet[Slot], now: datetime.datetime) -> None:
        self.rows = rows
        self.now = now

    def __getitem__(self, page: slice) -> list[Slot]:
        wanted = (page.stop or 0) - (page.start or 0)
        narrow = self.rows.values_list(*_SLOT_COLUMNS, "doctor__specialty_id")
        for window in SLOT_WINDOWS:
            if window is None:
                return _slots(list(narrow[page]))
            chunk = list(narrow.filter(starts_at__lt=self.now + window)[page])
            if len(chunk) == wanted:
                return _slots(chunk)
        raise AssertionError("the last window has no bound")  # pragma: no cover


_SLOT_COLUMNS = [f.attname for f in Slot._meta.concrete_fields]


def _slots(rows: list[tuple[Any, ...]]) -> list[Slot]:
    """Slots of a narrow read, with what a Slot resource names of its doctor: the id and
    the specialty (from the directory's cache)."""
    db = router.db_for_read(Slot)
    doctor_field = Slot._meta.get_field("doctor")
    specialty_field = Doctor._meta.get_field("specialty")
    slots = []
    for row in rows:
        slot = built(Slot, db, _SLOT_COLUMNS, row[:-1])
        doctor = built(Doctor, db, ["id", "specialty_id"], (slot.doctor_id, row[-1]))
        specialty = specialty_cached(doctor.specialty_id)
        if specialty is not None:
            specialty_field.set_cached_value(doctor, specialty)
        doctor_field.set_cached_value(slot, doctor)
        slots.append(slot)
    return slots


def slot_search(query: QueryDict) -> tuple[EarliestFirst, Render]:
    now = timezone.now()
    rows = Slot.objects.order_by("starts_at", "pk")
    statuses = search.tokens(query, "status")
    if statuses is not None:
        if not set(statuses) <= SLOT_STATUS:
            raise search.invalid("status: ожидается free, busy или busy-unavailable")
        wanted = Q(pk__in=[])
        if "free" in statuses:
            wanted |= bookable_q(now)
        if "busy" in statuses:
            wanted |= Q(status="booked")
        if "busy-unavailable" in statuses:
            wanted |= Q(status="blocked") | (Q(status="free") & ~bookable_q(now))
        rows = rows.filter(wanted)
    if (wanted_ids := search.ids(query, "_id")) is not None:
        rows = rows.filter(pk__in=wanted_ids)
    if (schedules := search.ids(query, "schedule", "Schedule")) is not None:
        rows = rows.filter(doctor_id__in=schedules)
    if (orgs := search.ids(query, "organization", "Organization")) is not None:
        rows = rows.filter(doctor__clinic_id__in=orgs)
    if (codes := search.tokens(query, "service-type", "specialty")) is not None:
        rows = rows.filter(doctor__specialty__code__in=codes)
    for district in search.values(query, "district"):
        rows = rows.filter(doctor__clinic__district__name__iexact=district.strip())
    rows = rows.filter(search.date_filter(query, "start", "starts_at"))
    return EarliestFirst(rows, now), lambda row: resources.slot(row, now)


def slot_read(rid: str) -> dict[str, Any]:
    row = (
        Slot.objects.select_related("doctor__specialty", "doctor__clinic")
        .filter(pk=_int_id(rid))
        .first()
    )
    if row is None:
        raise api_error(404, "not_found")
    return resources.slot(row, timezone.now())


SEARCHES: dict[str, Search] = {
    "Organization": organization_search,
    "Location": location_search,
    "Practitioner": practitioner_search,
    "PractitionerRole": practitioner_role_search,
    "HealthcareService": healthcare_service_search,
    "Schedule": schedule_search,
    "Slot": slot_search,
}
# Turns a page of rows into what the renderer takes, in a fixed number of queries.
PREPARE: dict[str, Callable[[list[Any]], list[Any]]] = {
    "HealthcareService": healthcare_services_of,
}
READS: dict[str, Read] = {
    "Organization": organization_read,
    "Location": location_read,
    "Practitioner": practitioner_read,
    "PractitionerRole": practitioner_role_read,
    "HealthcareService": healthcare_service_read,
    "Schedule": schedule_read,
    "Slot": slot_read,
}
