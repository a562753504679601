from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from portal.directory.models import Clinic, District, Doctor, Specialty


def districts_list() -> QuerySet[District]:
    return District.objects.annotate(clinic_count=Count("clinics")).order_by("position", "name")


def district_get(district_id: int) -> District:
    return get_object_or_404(District, pk=district_id)


def clinics_of_district(district: District) -> QuerySet[Clinic]:
    return district.clinics.order_by("short_name")


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
