"""Reads of the directory: the one place for district, clinic, specialty and doctor lookups.

Names follow one grammar, ``<noun>_<verb>[_<qualifier>]``: ``*_get`` returns one row or
raises Http404, ``*_list`` returns rows in display order (clinics in natural order).
The public directory pages and the booking wizard both read through here. Lookups and
lists are kept per process for the directory's current generation (`directory.cache`):
the objects are shared, callers must not change them. Search is not kept.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import and_, or_
from typing import TypeVar

from django.db import router
from django.db.models import Count, ForeignKey, Model, Q, QuerySet
from django.http import Http404

from portal.core.compiled import CompiledQuery, Row
from portal.core.rows import built
from portal.core.sorting import natural_key
from portal.directory.cache import directory_cached
from portal.directory.models import Clinic, District, Doctor, Specialty

T = TypeVar("T")
M = TypeVar("M", bound=Model)


# --- one row by its key, kept: a miss reads one compiled statement ---------------------
# The first page of a doctor in each worker used to build an ORM query with three joins
# (1.9 ms of CPU); at a rush's opening five workers meet fifty doctors at once
# (docs/performance.md, «The directory's rows by key»). Each row is now one compiled
# read of its own table, with its parents taken from the same cache.


def _columns(model: type[Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def _district_row(pk: int) -> "QuerySet[District, Row]":
    return District.objects.filter(pk=pk).values_list(*_columns(District))


def _clinic_row(pk: int) -> "QuerySet[Clinic, Row]":
    return Clinic.objects.filter(pk=pk).values_list(*_columns(Clinic))


def _specialty_row(pk: int) -> "QuerySet[Specialty, Row]":
    return Specialty.objects.filter(pk=pk).values_list(*_columns(Specialty))


def _doctor_row(pk: int) -> "QuerySet[Doctor, Row]":
    return Doctor.objects.filter(pk=pk).values_list(*_columns(Doctor))


_ROWS = {
    District: CompiledQuery(_district_row),
    Clinic: CompiledQuery(_clinic_row),
    Specialty: CompiledQuery(_specialty_row),
    Doctor: CompiledQuery(_doctor_row),
}


def _one(model: type[M], pk: int) -> M | None:
    """The complete row of ``model`` with this key, or None."""
    rows = _ROWS[model].rows(pk)
    return built(model, router.db_for_read(model), _columns(model), rows[0]) if rows else None


def _attached(instance: M | None, **parents: Model | None) -> M | None:
    """The instance with its parents set as select_related would set them."""
    if instance is not None:
        for name, parent in parents.items():
            field = instance._meta.get_field(name)
            if parent is not None and isinstance(field, ForeignKey):
                field.set_cached_value(instance, parent)
    return instance


def district_cached(district_id: int) -> District | None:
    return directory_cached(("district", district_id), lambda: _one(District, district_id))


def districts_list() -> list[District]:
    """Every district with ``clinic_count``, in the region's order (kept: directory.cache)."""
    return directory_cached(
        "districts",
        lambda: list(
            District.objects.annotate(clinic_count=Count("clinics")).order_by("position", "name")
        ),
    )


def district_choices() -> list[tuple[int, str]]:
    """(id, name) of every district in the region's order, for a form's choices."""
    return [(d.pk, d.name) for d in districts_list()]


def _or_404(value: T | None) -> T:
    if value is None:
        raise Http404
    return value


def district_get(district_id: int) -> District:
    return _or_404(district_cached(district_id))


def clinics_list_in_district(district: District) -> list[Clinic]:
    """A district's clinics in natural order: «№ 2» before «№ 11» (portal.core.sorting)."""
    return directory_cached(
        ("district clinics", district.pk),
        lambda: clinics_sorted(Clinic.objects.filter(district_id=district.pk)),
    )


def clinics_sorted(clinics: Iterable[Clinic]) -> list[Clinic]:
    return sorted(clinics, key=lambda clinic: natural_key(clinic.short_name))


def clinic_get(clinic_id: int) -> Clinic:
    """A clinic with its district."""
    return _or_404(clinic_cached(clinic_id))


def clinic_cached(clinic_id: int) -> Clinic | None:
    """A clinic with its district, or None: the patient's attached clinic is read here."""

    def build() -> Clinic | None:
        clinic = _one(Clinic, clinic_id)
        return clinic and _attached(clinic, district=district_cached(clinic.district_id))

    return directory_cached(("clinic", clinic_id), build)


def specialty_get(specialty_id: int) -> Specialty:
    return _or_404(specialty_cached(specialty_id))


def specialty_cached(specialty_id: int) -> Specialty | None:
    return directory_cached(("specialty", specialty_id), lambda: _one(Specialty, specialty_id))


def specialties_list(age_groups: Iterable[str] | None = None) -> list[Specialty]:
    """Specialties by name; with ``age_groups``, only those receiving those ages."""
    groups = tuple(sorted(age_groups)) if age_groups is not None else None

    def build() -> list[Specialty]:
        rows = Specialty.objects.order_by("name")
        return list(rows if groups is None else rows.filter(age_group__in=groups))

    return directory_cached(("specialties", groups), build)


def specialties_list_at_clinic(clinic: Clinic) -> list[Specialty]:
    """Specialties in which the clinic has at least one doctor receiving patients."""
    return directory_cached(
        ("clinic specialties", clinic.pk),
        lambda: list(
            Specialty.objects.filter(doctors__clinic_id=clinic.pk, doctors__is_active=True)
            .distinct()
            .order_by("name")
        ),
    )


def doctor_get(doctor_id: int) -> Doctor:
    """An active doctor: one who left is a 404 for new bookings and their pages."""
    doctor = doctor_cached(doctor_id)
    return _or_404(doctor if doctor is not None and doctor.is_active else None)


def doctor_cached(doctor_id: int) -> Doctor | None:
    """A doctor, active or not, with clinic, district and specialty (a slot's doctor)."""

    def build() -> Doctor | None:
        doctor = _one(Doctor, doctor_id)
        if doctor is None:
            return None
        return _attached(
            doctor,
            clinic=clinic_cached(doctor.clinic_id),
            specialty=specialty_cached(doctor.specialty_id),
        )

    return directory_cached(("any doctor", doctor_id), build)


def doctors_list_at_clinic(clinic: Clinic) -> list[Doctor]:
    return directory_cached(
        ("clinic doctors", clinic.pk),
        lambda: list(
            Doctor.objects.filter(clinic_id=clinic.pk, is_active=True)
            .select_related("specialty")
            .order_by("last_name", "first_name", "middle_name")
        ),
    )


def doctors_list_of(clinic: Clinic, specialty: Specialty) -> list[Doctor]:
    """The clinic's active doctors of a specialty, by name (the wizard's step 4)."""
    return directory_cached(
        ("clinic specialty doctors", clinic.pk, specialty.pk),
        lambda: list(
            Doctor.objects.filter(clinic_id=clinic.pk, specialty_id=specialty.pk, is_active=True)
            .select_related("clinic", "specialty")
            .order_by("last_name", "first_name", "pk")
        ),
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
