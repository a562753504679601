"""Code systems and identifiers the API emits (docs/api.md, «Коды»).

The portal's own specialties, booking access and age groups are published under
the portal's code system base (`FHIR_SYSTEM_BASE`), which must stay the same for the
life of a deployment: clients store these codes.
"""

from typing import Any

from django.conf import settings

from portal.api.queries import Specialty

RELATED_ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
ORGANIZATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/organization-type"


def system(name: str) -> str:
    return f"{settings.FHIR_SYSTEM_BASE}/CodeSystem/{name}"


def naming(name: str) -> str:
    """An identifier system (NamingSystem) of the portal: clinic, ticket, OMS policy."""
    return f"{settings.FHIR_SYSTEM_BASE}/sid/{name}"


def extension_url(name: str) -> str:
    return f"{settings.FHIR_SYSTEM_BASE}/StructureDefinition/{name}"


def specialty_concept(specialty: Specialty) -> dict[str, Any]:
    return {
        "coding": [
            {"system": system("specialty"), "code": specialty.code, "display": specialty.name}
        ],
        "text": specialty.name,
    }


def access_concept(specialty: Specialty) -> dict[str, Any]:
    return {
        "coding": [
            {
                "system": system("booking-access"),
                "code": specialty.access,
                "display": specialty.get_access_display(),
            }
        ],
        "text": str(specialty.get_access_display()),
    }


def age_group_concept(specialty: Specialty) -> dict[str, Any]:
    return {
        "coding": [
            {
                "system": system("age-group"),
                "code": specialty.age_group,
                "display": specialty.get_age_group_display(),
            }
        ],
        "text": str(specialty.get_age_group_display()),
    }
