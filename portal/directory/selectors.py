"""Reads of the directory: the one place for district, clinic, specialty and doctor lookups.

Names follow one grammar, ``<noun>_<verb>[_<qualifier>]``: ``*_get`` returns one row or
raises Http404, ``*_list`` returns rows in display order (clinics in natural order).
The public directory pages and the booking wizard both read through here.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import and_, or_

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from portal.core.sorting import natural_key
from portal.directory.models import Clinic, District, Doctor, Specialty


def districts_list() -> QuerySet[District]:
    return District.objects.annotate(clinic_count=Count("clinics")).order_by("position", "name")


def district_get(district_id: int) -> District:
    return get_object_or_404(District, pk=district_id)


def clinics_list_in_district(district: District) -> list[Clinic]:
    """A district's clinics in natural order: «№ 2» before «№ 11» (portal.core.sorting)."""
    return clinics_sorted(district.clinics.all())


def clinics_sorted(clinics: Iterable[Clinic]) -> list[Clinic]:
    return sorted(clinics, key=lambda clinic: natural_key(clinic.short_name))


def clinic_get(clinic_id: int) -> Clinic:
    return get_object_or_404(Clinic.objects.select_related("district"), pk=clinic_id)


def specialty_get(specialty_id: int) -> Specialty:
    return get_object_or_404(Specialty, pk=specialty_id)


def specialties_list_at_clinic(clinic: Clinic) -> QuerySet[Specialty]:
    """Specialties in which the clinic has at least one doctor receiving patients."""
    return (
        Specialty.objects.filter(doctors__clinic=clinic, doctors__is_active=True)
        .distinct()
        .order_by("name")
    )


def doctor_get(doctor_id: int) -> Doctor:
    """An active doctor: one who left is a 404 for new bookings and their pages."""
    return get_object_or_404(
        Doctor.objects.select_related("clinic__district", "specialty"), pk=doctor_id, is_active=True
    )


def doctors_list_at_clinic(clinic: Clinic) -> QuerySet[Doctor]:
    return (
        Doctor.objects.filter(clinic=clinic, is_active=True)
        .select_related("specialty")
        .order_by("last_name", "first_name", "middle_name")
    )


# --- search (issue 27) -------------------------------------------------------------------

SEARCH_LIMIT = 30  # rows per kind: a search is for finding, the lists are for browsing
SEARCH_MIN_LENGTH = 2


@dataclass(frozen=True)
class SearchResult:
    districts: list[District]
    clinics: list[Clinic]
    doctors: list[Doctor]
    specialties: list[Specialty]
    clinics_total: int = 0  # all that matched; more than shown asks for a narrower query

    @property
    def empty(self) -> bool:
        return not (self.districts or self.clinics or self.doctors or self.specialties)


def _contains(field: str, term: str) -> Q:
    """Case-insensitive «contains» for Cyrillic on both engines: PostgreSQL folds any
    letter, SQLite's LIKE only ASCII, so the usual spellings are asked for as well
    («детская», «Детская», «ДЕТСКАЯ»)."""
    spellings = {term, term.lower(), term.capitalize(), term.upper()}
    return reduce(
        or_, (Q(**{f"{field}__contains": s}) for s in spellings), Q(**{f"{field}__icontains": term})
    )


def _every_term(terms: list[str], fields: tuple[str, ...]) -> Q:
    """Each term found in one of the fields: «терапевт иванова» is a therapist Иванова."""
    return reduce(and_, (reduce(or_, (_contains(f, t) for f in fields)) for t in terms))


def search_terms(query: str) -> list[str]:
    """The words of a query worth searching for (ё as е is left to the data: both occur)."""
    words = [w.strip('.,;:«»"()') for w in query.split()]
    return [w for w in words if len(w) >= SEARCH_MIN_LENGTH or w.isdigit()][:5]


def search(query: str) -> SearchResult:
    """Districts, clinics, doctors and specialties by name, specialty and address."""
    terms = search_terms(query)
    if not terms:
        return SearchResult([], [], [], [])
    districts = District.objects.filter(_every_term(terms, ("name",)))[:SEARCH_LIMIT]
    matching = Clinic.objects.filter(
        pk__in=Clinic.objects.filter(
            _every_term(
                terms,
                (
                    "short_name",
                    "full_name",
                    "address",
                    "district__name",
                    "doctors__specialty__name",
                ),
            )
        ).values("pk")
    ).select_related("district")
    # The region's order (the big cities first, as the district list), then «№ 2» before
    # «№ 11»: «детская» shows Иркутск's children's clinics before the villages'.
    clinics = sorted(
        matching, key=lambda c: (c.district.position, c.district.name, natural_key(c.short_name))
    )
    doctors = (
        Doctor.objects.filter(is_active=True)
        .filter(
            _every_term(
                terms,
                (
                    "last_name",
                    "first_name",
                    "middle_name",
                    "specialty__name",
                    "clinic__short_name",
                    "clinic__address",
                ),
            )
        )
        .select_related("clinic", "specialty")
        .order_by("last_name", "first_name", "pk")[:SEARCH_LIMIT]
    )
    specialties = Specialty.objects.filter(_every_term(terms, ("name",)))[:SEARCH_LIMIT]
    return SearchResult(
        districts=list(districts),
        clinics=clinics[:SEARCH_LIMIT],
        clinics_total=len(clinics),
        doctors=list(doctors),
        specialties=list(specialties),
    )
