"""Does ESIA list this very child for this guardian? The one source that verifies a
guardianship by itself (docs/security.md)."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from portal.patients.models import InsuredPerson, Patient
from portal.patients.validators import name_key, snils_digits


@dataclass(frozen=True)
class ChildFacts:
    """Who a child is, as the portal knows them, for comparing with ESIA's `kids`."""

    last_name: str
    first_name: str
    middle_name: str
    birth_date: date
    policy_series: str
    policy_number: str
    snils: str = ""

    @classmethod
    def of_patient(cls, child: Patient) -> "ChildFacts":
        return cls(
            child.last_name,
            child.first_name,
            child.middle_name,
            child.birth_date,
            child.policy_series,
            child.policy_number,
            child.snils,
        )

    @classmethod
    def of_insured(cls, person: InsuredPerson) -> "ChildFacts":
        return cls(
            person.last_name,
            person.first_name,
            person.middle_name,
            person.birth_date,
            person.policy_series,
            person.policy_number,
        )


def listed_in_esia_kids(guardian: Patient, child: ChildFacts) -> bool:
    """ESIA lists this very child in the guardian's own `kids`, as of their last login:
    the one source that verifies (docs/security.md, «Guardianship»).

    Name and birth date only find the entry: namesakes exist, and a stranger can learn
    them. The identifiers ESIA gives for the kid must then agree with the child's — the
    OMS policy, and the SNILS where both sides have one — and at least one must have
    been compared: a kid ESIA lists with neither verifies nothing (the clinic confirms).
    """
    wanted = (name_key(child.last_name), name_key(child.first_name), name_key(child.middle_name))
    for kid in guardian.esia_kids or []:
        if not isinstance(kid, dict) or kid.get("birth_date") != child.birth_date.isoformat():
            continue
        names = (kid.get("last_name"), kid.get("first_name"), kid.get("middle_name"))
        if tuple(name_key(str(n or "")) for n in names) == wanted and _same_child(kid, child):
            return True
    return False


def _same_child(kid: dict[str, Any], child: ChildFacts) -> bool:
    compared = False
    kid_policy = (_ident(kid.get("policy_series")), _ident(kid.get("policy_number")))
    if kid_policy[1]:
        if kid_policy != (_ident(child.policy_series), _ident(child.policy_number)):
            return False
        compared = True
    kid_snils, child_snils = snils_digits(str(kid.get("snils") or "")), snils_digits(child.snils)
    if kid_snils and child_snils:
        if kid_snils != child_snils:
            return False
        compared = True
    return compared


def _ident(value: object) -> str:
    """An identifier as typed or as ESIA sends it: case and spacing do not count."""
    return "".join(str(value or "").split()).upper()
