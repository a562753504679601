"""The operator's directory of doctors: search, filters by clinic and specialty, and
namesakes named (a region of hundreds of doctors has identical names)."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from portal.directory.models import Doctor


@dataclass(frozen=True)
class DoctorFilter:
    text: str = ""
    clinic_id: int | None = None
    specialty_id: int | None = None


def directory_doctors(chosen: DoctorFilter) -> QuerySet[Doctor]:
    doctors = Doctor.objects.select_related("clinic", "specialty")
    for word in chosen.text.split()[:3]:
        doctors = doctors.filter(_word_q(word))
    if chosen.clinic_id is not None:
        doctors = doctors.filter(clinic_id=chosen.clinic_id)
    if chosen.specialty_id is not None:
        doctors = doctors.filter(specialty_id=chosen.specialty_id)
    return doctors.order_by("last_name", "first_name", "middle_name", "pk")


def _word_q(word: str) -> Q:
    """A word of a name in any case: SQLite folds only ASCII case, so the usual spellings
    of a Cyrillic word are asked for as they are (PostgreSQL's icontains folds them all)."""
    found = Q(room__iexact=word)
    for variant in {word, word.lower(), word.capitalize(), word.upper()}:
        for field in ("last_name", "first_name", "middle_name"):
            found |= Q(**{f"{field}__icontains": variant})
    return found


def namesakes_among(doctors: list[Doctor]) -> dict[int, int]:
    """How many doctors of the region share each listed doctor's full name (only those
    with a namesake): the operator must not edit the wrong Смирнов."""
    names = {(d.last_name, d.first_name, d.middle_name) for d in doctors}
    if not names:
        return {}
    shared = {
        (row["last_name"], row["first_name"], row["middle_name"]): row["n"]
        for row in Doctor.objects.filter(last_name__in={name[0] for name in names})
        .values("last_name", "first_name", "middle_name")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    }
    return {
        d.pk: shared[(d.last_name, d.first_name, d.middle_name)]
        for d in doctors
        if (d.last_name, d.first_name, d.middle_name) in shared
    }
