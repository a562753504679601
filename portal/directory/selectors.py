"""Reads of the directory: the one place for district, clinic, specialty and doctor lookups.

Names follow one grammar, ``<noun>_<verb>[_<qualifier>]``: ``*_get`` returns one row or
raises Http404, ``*_list`` returns rows in display order (clinics in natural order).
The public directory pages and the booking wizard both read through here.
"""

from collections.abc import Iterable

from django.db.models import Count, QuerySet
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
