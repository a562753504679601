"""A human-readable narrative (`text`) for every resource the API returns (issue 23).

FHIR R4 §2.4 asks resources to carry a narrative a person can read when the client does
not understand the structured data. The portal's resources are simple, so one line in
Russian, built from the resource's own fields, says what it is; the `div` is escaped XHTML
in the XHTML namespace, as the specification requires.
"""

from html import escape
from typing import Any

XHTML = "http://www.w3.org/1999/xhtml"
TITLES = {
    "Appointment": "Запись к врачу",
    "Patient": "Пациент",
    "RelatedPerson": "Законный представитель",
    "Practitioner": "Врач",
    "PractitionerRole": "Врач",
    "Organization": "Медицинская организация",
    "Location": "Место приёма",
    "HealthcareService": "Услуга",
    "Schedule": "Расписание",
    "Slot": "Время приёма",
    "ServiceRequest": "Направление",
}


def _name(resource: dict[str, Any]) -> str:
    name = resource.get("name")
    if isinstance(name, str):
        return name
    if isinstance(name, list) and name and isinstance(name[0], dict):
        first = name[0]
        if first.get("text"):
            return str(first["text"])
        return " ".join([str(first.get("family", "")), *map(str, first.get("given", []))]).strip()
    return ""


def _details(resource: dict[str, Any]) -> list[str]:
    parts = [_name(resource)]
    for key in ("specialty", "serviceType", "code"):
        value = resource.get(key)
        concept = value[0] if isinstance(value, list) and value else value
        if isinstance(concept, dict):
            parts.append(str(concept.get("text") or ""))
            break
    for actor in resource.get("participant", []) or []:
        display = actor.get("actor", {}).get("display") if isinstance(actor, dict) else None
        if display:
            parts.append(str(display))
    for key in ("start", "status"):
        if resource.get(key):
            parts.append(str(resource[key]))
    return [part for part in parts if part]


def narrated(resource: dict[str, Any]) -> dict[str, Any]:
    """``resource`` with a generated narrative unless it has one (Bundles: each entry)."""
    kind = resource.get("resourceType")
    if kind == "Bundle":
        for entry in resource.get("entry", []) or []:
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                narrated(entry["resource"])
        return resource
    if kind not in TITLES or "text" in resource:
        return resource
    line = ": ".join([TITLES[kind], ", ".join(_details(resource))]).rstrip(": ")
    resource["text"] = {
        "status": "generated",
        "div": f'<div xmlns="{XHTML}"><p>{escape(line, quote=False)}</p></div>',
    }
    return resource
