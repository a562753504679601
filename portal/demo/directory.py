"""Demo region loader: districts, clinics, specialties and doctors.

Idempotent by construction: every district gets clinics up to its target count,
every clinic gets doctors up to its staffing target; running twice adds nothing.
Names come from a seeded RNG, so a re-run on an empty database rebuilds the same region.
`scale` multiplies clinics outside the named Irkutsk list and doctors per specialty.
"""

import random
from collections.abc import Callable

from django.db import transaction

from portal.demo.names import random_full_name
from portal.demo.region_data import (
    ATTACHMENT_ONLY,
    CLINIC_STAFFING,
    IRKUTSK_CLINICS,
    MUNICIPALITIES,
    SPECIALTIES,
    STREETS,
)
from portal.directory.cache import directory_changed
from portal.directory.models import Clinic, District, Doctor, Specialty

KIND_CYCLE = ["mixed", "adult", "children"]


def _clinic_plan(district: District, scale: int) -> list[tuple[str, str, str]]:
    """(short name, full name, kind) of every clinic the district should have."""
    if district.name == "г. Иркутск":
        plan = [(name, f"ОГБУЗ «Иркутская {name.lower()}»", kind) for name, kind in IRKUTSK_CLINICS]
        extra = range(len(plan), len(plan) + (scale - 1) * 8)
    else:
        if district.kind == District.Kind.DISTRICT:
            # «Братский район» → «Братская районная больница»
            hospital = district.name.replace("ский район", "ская районная больница")
            plan = [(hospital, f"ОГБУЗ «{hospital}»", "mixed")]
        else:
            plan = [
                (
                    f"Городская поликлиника ({district.name})",
                    f"ОГАУЗ «Городская поликлиника» ({district.name})",
                    "adult",
                ),
                (
                    f"Детская поликлиника ({district.name})",
                    f"ОГАУЗ «Детская поликлиника» ({district.name})",
                    "children",
                ),
            ]
        extra = range(len(plan), len(plan) + (scale - 1))
    for index in extra:
        kind = KIND_CYCLE[index % 3]
        label = {"adult": "Поликлиника", "children": "Детская поликлиника", "mixed": "Амбулатория"}[
            kind
        ]
        short = f"{label} № {index + 1} ({district.name})"
        plan.append((short, f"ОГБУЗ «{label} № {index + 1}» ({district.name})", kind))
    return plan


def _address(rng: random.Random, town: str) -> str:
    return f"Иркутская обл., {town}, {rng.choice(STREETS)}, д. {rng.randrange(1, 120)}"


def _phone(rng: random.Random) -> str:
    digits = (rng.randrange(20, 99), rng.randrange(10, 99), rng.randrange(10, 99))
    return "+7 (3952) {}-{}-{}".format(*digits)


def _load_specialties() -> dict[str, Specialty]:
    result = {}
    for code, name, access, age_group in SPECIALTIES:
        specialty, _ = Specialty.objects.update_or_create(
            code=code, defaults={"name": name, "access": access, "age_group": age_group}
        )
        result[code] = specialty
    return result


def _staff_clinic(
    clinic: Clinic, specialties: dict[str, Specialty], scale: int, rng: random.Random
) -> list[Doctor]:
    existing: dict[int, int] = {}
    for specialty_id in clinic.doctors.values_list("specialty_id", flat=True):
        existing[specialty_id] = existing.get(specialty_id, 0) + 1
    new: list[Doctor] = []
    for code, count in CLINIC_STAFFING[clinic.kind]:
        specialty = specialties[code]
        target = count * scale
        for n in range(existing.get(specialty.pk, 0), target):
            last, first, middle = random_full_name(rng, rng.choice("MF"))
            is_district = code in ATTACHMENT_ONLY
            new.append(
                Doctor(
                    clinic=clinic,
                    specialty=specialty,
                    last_name=last,
                    first_name=first,
                    middle_name=middle,
                    room=str(100 + rng.randrange(1, 400)),
                    area=str(n + 1) if is_district else "",
                )
            )
    return new


def load(scale: int = 1, log: Callable[[str], None] = print) -> None:
    rng = random.Random(3800 + scale)
    with transaction.atomic():
        specialties = _load_specialties()
        for position, (name, kind, centre) in enumerate(MUNICIPALITIES):
            district, _ = District.objects.update_or_create(
                name=name, defaults={"kind": kind, "position": position}
            )
            have = set(district.clinics.values_list("short_name", flat=True))
            for short, full, clinic_kind in _clinic_plan(district, scale):
                if short in have:
                    continue
                town = centre if district.kind == District.Kind.DISTRICT else name
                Clinic.objects.create(
                    district=district,
                    short_name=short,
                    full_name=full,
                    kind=clinic_kind,
                    address=_address(rng, town),
                    phone=_phone(rng),
                )
        doctors: list[Doctor] = []
        for clinic in Clinic.objects.all():
            doctors.extend(_staff_clinic(clinic, specialties, scale, rng))
        Doctor.objects.bulk_create(doctors, batch_size=2000)
        directory_changed()  # bulk_create sends no post_save: the cache is told here
    log(
        f"Демо-регион: {District.objects.count()} районов и городов, "
        f"{Clinic.objects.count()} организаций, {Doctor.objects.count()} врачей"
    )
