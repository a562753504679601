"""Reads of home visits: the patient's side through the one rule of visibility
(`patients.selectors.visibility_for`), the clinic's through its staff scope."""

import datetime

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from portal.directory.models import Doctor
from portal.home_visits.models import EsiaAddresses, HomeVisit
from portal.home_visits.rules import (
    DEFAULT_WEEKDAYS,
    clinic_settings,
    local_now,
    next_working_day,
)
from portal.patients.models import Patient
from portal.patients.selectors import Visibility, visibility_for
from portal.staff.permissions import AnyUser, clinic_scope_for


def visits_visible_to(user: AnyUser) -> QuerySet[HomeVisit]:
    """Every request of the patients the user sees in full; of a child seen only in part
    (an unverified guardian), the requests the user made."""
    if user is None:
        return HomeVisit.objects.none()
    return visits_seen(visibility_for(user)).select_related("patient", "clinic", "doctor")


def visits_seen(seen: Visibility) -> QuerySet[HomeVisit]:
    """`visits_visible_to` for a user's `Visibility` (the cabinet looks whether any)."""
    return HomeVisit.objects.filter(seen.records(author="applicant_id"))


def visit_get_for_user(user: AnyUser, visit_id: int) -> HomeVisit:
    visit = visits_visible_to(user).filter(pk=visit_id).first()
    if visit is None:
        raise Http404
    return visit


def open_visit_of(user: AnyUser, patient_id: int) -> HomeVisit | None:
    return (
        visits_visible_to(user)
        .filter(patient_id=patient_id, state__in=HomeVisit.OPEN_STATES)
        .first()
    )


def visits_in_scope(user: AnyUser) -> QuerySet[HomeVisit]:
    return HomeVisit.objects.filter(clinic__in=clinic_scope_for(user)).select_related(
        "patient", "clinic", "doctor", "handled_by"
    )


def visit_get_for_staff(user: AnyUser, visit_id: int) -> HomeVisit:
    visit = visits_in_scope(user).filter(pk=visit_id).first()
    if visit is None:
        raise Http404
    return visit


def queue_days(user: AnyUser, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Today to the clinic's next working day: «tomorrow» of a Friday is Monday, so a
    request made on Saturday for Monday is on the list all weekend."""
    scope = list(clinic_scope_for(user)[:2])
    weekdays = clinic_settings(scope[0])[1] if len(scope) == 1 else DEFAULT_WEEKDAYS
    return today, next_working_day(weekdays, today)


def dispatcher_queue(
    user: AnyUser, today: datetime.date | None = None
) -> list[tuple[str, list[HomeVisit]]]:
    """The clinic's requests for today and its next working day, grouped by district
    (участок), newest first within each."""
    first, last = queue_days(user, today or local_now().date())
    rows = (
        visits_in_scope(user)
        .filter(day__gte=first, day__lte=last)
        .order_by("area", "-created_at", "-pk")
    )
    groups: dict[str, list[HomeVisit]] = {}
    for visit in rows:
        groups.setdefault(visit.area, []).append(visit)
    return sorted(groups.items(), key=lambda item: (item[0] == "", _natural(item[0])))


def _natural(area: str) -> tuple[int, str]:
    return (int(area), "") if area.isdigit() else (10**9, area)


def doctors_for(visit: HomeVisit) -> list[Doctor]:
    """The clinic's active doctors, the district's own first."""
    doctors = list(
        Doctor.objects.filter(clinic_id=visit.clinic_id, is_active=True).select_related("specialty")
    )
    return sorted(doctors, key=lambda d: (d.area != visit.area or not visit.area, d.full_name))


def addresses_offered(user: AnyUser) -> list[dict[str, str]]:
    """Addresses to offer on the form: the user's registration and actual addresses from
    their last ESIA login, then those of the family's earlier requests (a person calls
    the doctor to the same home again), without repeats."""
    if user is None or not user.is_authenticated:
        return []
    offered: list[dict[str, str]] = []
    kept = EsiaAddresses.objects.filter(patient__user=user).first()
    labels = {
        "registration": _("по месту жительства (Госуслуги)"),
        "actual": _("фактический (Госуслуги)"),
    }
    for address in kept.addresses if kept is not None else []:
        offered.append(
            {
                "text": address["text"],
                "flat": address.get("flat", ""),
                "label": str(labels.get(address["kind"], "")),
            }
        )
    earlier = visits_visible_to(user).order_by("-created_at").values_list("address", "apartment")
    for text, flat in earlier[:20]:
        if all(o["text"] != text for o in offered):
            offered.append({"text": text, "flat": flat, "label": str(_("из прошлого вызова"))})
    return offered[:4]


def patient_in_scope_by_policy(user: AnyUser, policy_number: str) -> "Patient | None":
    """A patient attached to a clinic of the staff member's scope, by policy number."""
    return (
        Patient.objects.filter(clinic__in=clinic_scope_for(user), policy_number=policy_number)
        .select_related("clinic")
        .first()
    )
