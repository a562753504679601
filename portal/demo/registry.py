"""Demo registry of insured persons: the ESIA personas, their children, generated people.

Idempotent: insurers and persona rows are upserted (which also moves their birth dates
to this week's, see portal.demo.dates); generated people have
policy numbers derived from their index (prefix GENERATED_PREFIX), so a re-run
only adds the missing indices. `scale` 1 holds 2,000 generated people, above it
100,000 × (scale − 1) (the benchmark's scale 3 → 200,000).
"""

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from portal.demo.names import random_full_name
from portal.demo.personas import birth_date, load_personas
from portal.directory.models import Clinic
from portal.patients.models import InsuranceCompany, InsuredPerson, PolicyKind
from portal.patients.validators import enp_control_digit

# 38 = Irkutsk oblast (OKATO); 99 keeps generated numbers apart from the personas'.
GENERATED_PREFIX = "3899"
BATCH = 5000


def generated_target(scale: int) -> int:
    return 2000 if scale <= 1 else 100_000 * (scale - 1)


def generated_enp(index: int) -> str:
    body = f"{GENERATED_PREFIX}{index:011d}"
    return body + str(enp_control_digit(body))


def _policy_of(person: dict[str, Any]) -> tuple[str, str, str]:
    if "registry_policy" in person:
        p = person["registry_policy"]
        return p["kind"], p.get("series", ""), p["number"]
    for doc in person.get("documents", []):
        if doc["type"] == "MDCL_PLCY":
            series = doc.get("series", "")
            number = doc["number"]
            if series:
                return PolicyKind.OLD, series, number
            kind = PolicyKind.TEMPORARY if len(number) == 9 else PolicyKind.UNIFIED
            return kind, "", number
    raise ValueError(f"persona {person['key']} has no policy")


def _load_personas(insurers: dict[str, InsuranceCompany], clinics: dict[str, Clinic]) -> int:
    data = load_personas()
    count = 0
    for person in [*data["personas"], *data["kids"], *data["registry_kids"]]:
        registry = person.get("registry")
        if not registry:
            continue
        kind, series, number = _policy_of(person)
        InsuredPerson.objects.update_or_create(
            policy_series=series,
            policy_number=number,
            defaults={
                "policy_kind": kind,
                "last_name": person["lastName"],
                "first_name": person["firstName"],
                "middle_name": person.get("middleName", ""),
                "birth_date": birth_date(person),
                "sex": person["gender"],
                "insurer": insurers[registry["insurer"]],
                "clinic": clinics.get(registry["clinic"]),
                "area": registry.get("area", ""),
            },
        )
        count += 1
    return count


def _generate(
    start: int, stop: int, insurers: list[InsuranceCompany], scale: int
) -> tuple[int, int]:
    """Insert generated people with indices [start, stop); returns (added, batches)."""
    adult_clinics = list(Clinic.objects.exclude(kind=Clinic.Kind.CHILDREN).order_by("pk"))
    child_clinics = list(Clinic.objects.exclude(kind=Clinic.Kind.ADULT).order_by("pk"))
    if not adult_clinics or not child_clinics:
        return 0, 0
    rng = random.Random(f"insured-{scale}-{start}")
    today = timezone.localdate()
    added = batches = 0
    batch: list[InsuredPerson] = []
    for index in range(start, stop):
        sex = rng.choice("MF")
        last, first, middle = random_full_name(rng, sex)
        age_days = rng.randrange(0, 90 * 365)
        birth = today - timedelta(days=age_days)
        clinic = rng.choice(child_clinics if age_days < 18 * 365 else adult_clinics)
        batch.append(
            InsuredPerson(
                policy_kind=PolicyKind.UNIFIED,
                policy_series="",
                policy_number=generated_enp(index),
                last_name=last,
                first_name=first,
                middle_name=middle,
                birth_date=birth,
                sex=sex,
                insurer=rng.choice(insurers),
                clinic=clinic,
                area=str(rng.randrange(1, 25)),
            )
        )
        if len(batch) >= BATCH:
            InsuredPerson.objects.bulk_create(batch, ignore_conflicts=True)
            added += len(batch)
            batches += 1
            batch = []
    if batch:
        InsuredPerson.objects.bulk_create(batch, ignore_conflicts=True)
        added += len(batch)
        batches += 1
    return added, batches


def load(scale: int = 1, log: Callable[[str], None] = print) -> None:
    data = load_personas()
    with transaction.atomic():
        insurers = {}
        for item in data["insurers"]:
            insurer, _ = InsuranceCompany.objects.update_or_create(
                code=item["code"], defaults={"name": item["name"]}
            )
            insurers[insurer.code] = insurer
        clinics = {c.short_name: c for c in Clinic.objects.all()}
        personas = _load_personas(insurers, clinics)
        have = InsuredPerson.objects.filter(policy_number__startswith=GENERATED_PREFIX).count()
        target = generated_target(scale)
        added, _batches = _generate(have, target, list(insurers.values()), scale)
    log(
        f"Регистр застрахованных: {personas} тестовых персон, добавлено {added} "
        f"сгенерированных, всего {InsuredPerson.objects.count()}"
    )
