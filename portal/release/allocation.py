"""The draw as a pure function of its seed and inputs (docs/fair-release.md, «Algorithm»).

Order: each request's key is HMAC-SHA256(seed, "request:<id>"); requests are taken in
ascending key order. Nobody can know the order before the seed exists, the seed is made
when requests are closed, and how often or how early a client asked does not enter it.
Allocation: in that order, each request takes the earliest free slot it accepts (doctor,
time of day); if the booking service refuses that slot for that patient, a slot-level
refusal moves on to the next slot and a patient-level one ends the request's turn.

The live draw and the replay run this same code; the live one asks the booking service
(`book`), the replay asks the refusals the live one recorded, so equal inputs give an
equal allocation.
"""

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Refusals that concern the slot, not the patient: the request tries its next slot.
SLOT_REFUSALS = frozenset(
    {
        "slot_taken",
        "slot_blocked",
        "slot_past",
        "slot_held",
        "slot_in_draw",
        "slot_not_open",
        "overlap",
    }
)
NOON = "12:00"

WON = "won"
LOST = "lost"
REFUSED = "refused"


@dataclass(frozen=True)
class RequestIn:
    id: int
    patient: int
    doctors: tuple[int, ...]  # empty: any doctor
    times: str  # Times value


@dataclass(frozen=True)
class SlotIn:
    id: int
    doctor: int
    starts_at: str  # ISO, UTC: orders the slots
    local_time: str  # "HH:MM" in the region's time: decides morning / afternoon


@dataclass(frozen=True)
class Outcome:
    position: int
    outcome: str  # WON, LOST or REFUSED
    slot: int | None
    refusal: str = ""


Book = Callable[[RequestIn, SlotIn], str | None]  # a refusal code, or None when booked


def request_key(seed: str, request_id: int) -> str:
    return hmac.new(seed.encode(), f"request:{request_id}".encode(), hashlib.sha256).hexdigest()


def draw_order(seed: str, requests: list[RequestIn]) -> list[RequestIn]:
    return sorted(requests, key=lambda r: (request_key(seed, r.id), r.id))


def accepts(request: RequestIn, slot: SlotIn) -> bool:
    if request.doctors and slot.doctor not in request.doctors:
        return False
    if request.times == "morning":
        return slot.local_time < NOON
    if request.times == "afternoon":
        return slot.local_time >= NOON
    return True


def fitting(request: RequestIn, slots: list[SlotIn]) -> int:
    """How many of the draw's times this request would take (its doctors, its time of
    day): none means its result could never have been a time, whatever its place."""
    return sum(1 for slot in slots if accepts(request, slot))


def day_parts(local_times: list[str]) -> list[str]:
    """The Times values a day with these local start times really has: «any» always, a
    part of the day only when one of its times starts in it."""
    parts = ["any"]
    if any(t < NOON for t in local_times):
        parts.append("morning")
    if any(t >= NOON for t in local_times):
        parts.append("afternoon")
    return parts


def allocate(
    seed: str, requests: list[RequestIn], slots: list[SlotIn], book: Book
) -> dict[int, Outcome]:
    """Request id → outcome. Never gives one slot twice; a request goes without a slot
    only when every free slot it accepts was refused or taken before its turn."""
    free = sorted(slots, key=lambda s: (s.starts_at, s.doctor, s.id))
    taken: set[int] = set()
    result: dict[int, Outcome] = {}
    for position, request in enumerate(draw_order(seed, requests), start=1):
        outcome = Outcome(position, LOST, None)
        for slot in free:
            if slot.id in taken or not accepts(request, slot):
                continue
            refusal = book(request, slot)
            if refusal is None:
                taken.add(slot.id)
                outcome = Outcome(position, WON, slot.id)
                break
            if refusal in SLOT_REFUSALS:
                if refusal != "overlap":  # the slot itself is gone for everyone
                    taken.add(slot.id)
                continue
            outcome = Outcome(position, REFUSED, None, refusal)
            break
        result[request.id] = outcome
    return result


# --- the stored form (Draw.inputs, Draw.allocation, Draw.refusals) -------------------


def inputs_parse(inputs: Mapping[str, Any]) -> tuple[list[RequestIn], list[SlotIn]]:
    requests = [
        RequestIn(int(r["id"]), int(r["patient"]), tuple(int(d) for d in r["doctors"]), r["times"])
        for r in inputs["requests"]
    ]
    slots = [
        SlotIn(int(s["id"]), int(s["doctor"]), str(s["starts_at"]), str(s["local_time"]))
        for s in inputs["slots"]
    ]
    return requests, slots


def seed_digest(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def inputs_digest(inputs: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the inputs: the operator compares it on replay."""
    canonical = json.dumps(inputs, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def allocation_dump(result: Mapping[int, Outcome]) -> dict[str, dict[str, Any]]:
    return {
        str(request_id): {
            "position": o.position,
            "outcome": o.outcome,
            "slot": o.slot,
            "refusal": o.refusal,
        }
        for request_id, o in sorted(result.items())
    }


def recorded(refusals: list[list[Any]]) -> Book:
    """The replay's booking: what the live draw met, pair by pair; anything else booked."""
    known = {(int(r), int(s)): str(code) for r, s, code in refusals}

    def book(request: RequestIn, slot: SlotIn) -> str | None:
        return known.get((request.id, slot.id))

    return book


def replay(
    seed: str, inputs: Mapping[str, Any], refusals: list[list[Any]]
) -> dict[str, dict[str, Any]]:
    requests, slots = inputs_parse(inputs)
    return allocation_dump(allocate(seed, requests, slots, recorded(refusals)))
