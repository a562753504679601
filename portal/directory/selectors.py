from collections.abc import Iterable

from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from portal.core.sorting import natural_key
from portal.directory.models import Clinic, District, Doctor, Specialty


def districts_list() -> QuerySet[District]:
    return District.objects.annotate(clinic_count=Count("clinics")).order_by("position", "name")


def district_get(district_id: int) -> District:
    return get_object_or_404(District, pk=district_id)


def clinics_of_district(district: District) -> list[Clinic]:
    """A district's clinics in natural order: «№ 2» before «№ 11» (portal.core.sorting)."""
    return clinics_sorted(district.clinics.all())


def clinics_sorted(clinics: Iterable[Clinic]) -> list[Clinic]:
    return sorted(clinics, key=lambda clinic: natural_key(clinic.short_name))


def clinic_get_with_doctors(clinic_id: int) -> Clinic:
    doctors = Doctor.objects.filter(is_active=True).select_related("specialty")
    return get_object_or_404(
        Clinic.objects.select_related("district").prefetch_related(
            Prefetch("doctors", queryset=doctors, to_attr="active_doctors")
        ),
        pk=clinic_id,
    )


def specialties_of_clinic(clinic: Clinic) -> list[Specialty]:
    seen: dict[int, Specialty] = {}
    for doctor in clinic.active_doctors:  # type: ignore[attr-defined]
        seen.setdefault(doctor.specialty_id, doctor.specialty)
    return sorted(seen.values(), key=lambda s: s.name)
