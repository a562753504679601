"""Access to the shared fictional persona file (ESIA emulator + demo registry)."""

import json
from functools import cache
from pathlib import Path
from typing import Any

PERSONAS_FILE = Path(__file__).resolve().parent / "fixtures" / "personas.json"


@cache
def load_personas() -> dict[str, Any]:
    with PERSONAS_FILE.open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def persona_by_key(key: str) -> dict[str, Any]:
    for persona in load_personas()["personas"]:
        if persona["key"] == key:
            return dict(persona)
    raise KeyError(key)


def kid_by_key(key: str) -> dict[str, Any]:
    for kid in load_personas()["kids"]:
        if kid["key"] == key:
            return dict(kid)
    raise KeyError(key)
