"""The demo personas (portal/demo/personas.py) rendered as ESIA REST data."""

from typing import Any

from portal.demo.personas import kid_by_key, load_personas

COLLECTION_PATHS = {"contacts": "ctts", "documents": "docs", "kids": "kids", "addresses": "addrs"}


def personas() -> list[dict[str, Any]]:
    return [dict(p) for p in load_personas()["personas"]]


def persona_by_oid(oid: str) -> dict[str, Any] | None:
    return next((p for p in personas() if p["oid"] == oid), None)


def collection(elements: list[Any]) -> dict[str, Any]:
    return {"stateFacts": ["hasSize"], "size": len(elements), "eTag": "E0", "elements": elements}


def _urls(base: str, elements: list[dict[str, Any]]) -> dict[str, Any]:
    return collection([f"{base}/{e['id']}" for e in elements])


def contacts(persona: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"stateFacts": ["Identifiable"], "id": 100 + n, **contact}
        for n, contact in enumerate(persona.get("contacts", []))
    ]


def addresses(persona: dict[str, Any]) -> list[dict[str, Any]]:
    """Registration (PLV) and actual (PRG) addresses, as ESIA's /addrs gives them."""
    return [
        {"stateFacts": ["Identifiable"], "id": 300 + n, "countryId": "RUS", **address}
        for n, address in enumerate(persona.get("addresses", []))
    ]


def documents(owner: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"stateFacts": ["Identifiable"], "id": 200 + n, **doc}
        for n, doc in enumerate(owner.get("documents", []))
    ]


def kids(persona: dict[str, Any], *, with_documents: bool) -> list[dict[str, Any]]:
    result = []
    for key in persona.get("kids", []):
        kid = kid_by_key(key)
        element: dict[str, Any] = {
            "stateFacts": ["Identifiable"],
            "id": kid["id"],
            "firstName": kid["firstName"],
            "lastName": kid["lastName"],
            "middleName": kid.get("middleName", ""),
            "birthDate": kid["birthDate"],
            "gender": kid["gender"],
            "snils": kid.get("snils", ""),
        }
        if with_documents:
            element["documents"] = collection(documents(kid))
        result.append(element)
    return result


def kid_documents(persona: dict[str, Any], kid_id: str) -> list[dict[str, Any]] | None:
    for key in persona.get("kids", []):
        kid = kid_by_key(key)
        if kid["id"] == kid_id:
            return documents(kid)
    return None


def person(persona: dict[str, Any], base: str, embed: set[str]) -> dict[str, Any]:
    docs = documents(persona)
    identity_doc = next((d for d in docs if d["type"] == "RF_PASSPORT"), None)
    data: dict[str, Any] = {
        "stateFacts": ["EntityRoot"],
        "firstName": persona["firstName"],
        "lastName": persona["lastName"],
        "middleName": persona.get("middleName", ""),
        "birthDate": persona.get("birthDate", ""),
        "birthPlace": persona.get("birthPlace", ""),
        "gender": persona.get("gender", ""),
        "trusted": persona["level"] == "confirmed",
        "citizenship": "RUS",
        "snils": persona.get("snils", ""),
        "inn": persona.get("inn", ""),
        "status": "REGISTERED",
        "verifying": False,
        "updatedOn": 1735689600,
        "eTag": "P0",
    }
    # Simplified accounts have no verified identity document (docs/esia.md §6, account levels).
    if identity_doc is not None and persona["level"] != "simplified":
        data["rIdDoc"] = identity_doc["id"]
    data = {k: v for k, v in data.items() if v != ""}
    collections = {
        "contacts": contacts(persona),
        "documents": docs,
        "kids": kids(persona, with_documents="kids.elements.documents" in embed),
        "addresses": addresses(persona),
    }
    for name, elements in collections.items():
        if f"{name}.elements" in embed or (name == "kids" and "kids.elements.documents" in embed):
            data[name] = collection(elements)
        elif name in embed:
            data[name] = _urls(f"{base}/{COLLECTION_PATHS[name]}", elements)
    return data
