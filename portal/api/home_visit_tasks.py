"""Home visits as FHIR R4 `Task` (docs/home-visits.md, «For an integrator»): read, search
and create for a token's user, through the same selectors and services as the pages, so
the rules and the Russian refusals are the same."""

import datetime
from typing import Any

from django.http import Http404, HttpRequest, QueryDict
from django.utils import timezone

from portal.api import search
from portal.api.auth import Caller
from portal.api.codes import system
from portal.api.outcomes import FhirError, api_error
from portal.api.patient import _body, _int_id, _patient_for, _reference_id
from portal.api.queries import (
    RED_FLAGS,
    SYMPTOMS,
    HomeVisit,
    HomeVisitRefused,
    VisitData,
    visit_create,
    visit_get_for_user,
    visits_visible_to,
)
from portal.core.http import client_ip

SNOMED = "http://snomed.info/sct"
HOME_VISIT_SNOMED = "439708006"  # Home visit (procedure)
STATUS = {
    "received": "requested",
    "accepted": "accepted",
    "assigned": "in-progress",
    "visited": "completed",
    "cancelled": "cancelled",
}
TEXT_INPUTS = ("address", "apartment", "entrance", "floor", "intercom", "phone", "details")
REFUSAL_STATUS = {"already_open": 409, "busy": 503}


def _concept(name: str, code: str, display: str = "") -> dict[str, Any]:
    coding = {"system": system(name), "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding], "text": display or code}


def _input(code: str, **value: Any) -> dict[str, Any]:
    return {"type": _concept("home-visit-input", code), **value}


def _at(day: datetime.date, moment: datetime.time) -> str:
    local = datetime.datetime.combine(day, moment, tzinfo=timezone.get_default_timezone())
    return local.isoformat(timespec="seconds")


def _inputs(visit: HomeVisit) -> list[dict[str, Any]]:
    rows = [
        _input(code, valueString=getattr(visit, code))
        for code in TEXT_INPUTS
        if getattr(visit, code)
    ]
    rows += [
        _input("symptom", valueCoding={"system": system("home-visit-symptom"), "code": code})
        for code in visit.symptoms
    ]
    if visit.temperature is not None:
        rows.append(
            _input(
                "temperature",
                valueQuantity={
                    "value": float(visit.temperature),
                    "unit": "°C",
                    "system": "http://unitsofmeasure.org",
                    "code": "Cel",
                },
            )
        )
    rows.append(_input("consent", valueBoolean=visit.consent))
    return rows


def task(visit: HomeVisit) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(visit.pk),
        "status": STATUS[visit.state],
        "businessStatus": _concept("home-visit-state", visit.state, visit.get_state_display()),
        "intent": "order",
        "code": {
            "coding": [
                {
                    "system": system("task-code"),
                    "code": "home-visit",
                    "display": "Вызов врача на дом",
                },
                {"system": SNOMED, "code": HOME_VISIT_SNOMED, "display": "Home visit"},
            ],
            "text": "Вызов врача на дом",
        },
        "for": {"reference": f"Patient/{visit.patient_id}", "display": visit.patient.short_name},
        "authoredOn": timezone.localtime(visit.created_at).isoformat(timespec="seconds"),
        "restriction": {"period": {"start": visit.day.isoformat(), "end": visit.day.isoformat()}},
        "input": _inputs(visit),
    }
    if visit.by_phone:
        resource["requester"] = {"display": "Регистратура поликлиники (по телефону)"}
    if visit.doctor is not None:
        resource["owner"] = {
            "reference": f"Practitioner/{visit.doctor_id}",
            "display": visit.doctor.full_name,
        }
    if visit.window_start is not None and visit.window_end is not None:
        resource["executionPeriod"] = {
            "start": _at(visit.day, visit.window_start),
            "end": _at(visit.day, visit.window_end),
        }
    if visit.state == "cancelled":
        reason = visit.cancel_reason or visit.get_cancelled_by_display()
        resource["statusReason"] = {
            "coding": [{"system": system("home-visit-cancelled-by"), "code": visit.cancelled_by}],
            "text": reason,
        }
    return resource


def task_search(caller: Caller, query: QueryDict) -> Any:
    caller.require("Task", "s")
    rows = visits_visible_to(caller.user).order_by("-created_at", "-pk")
    if (wanted := search.ids(query, "patient", "Patient")) is not None:
        rows = rows.filter(patient_id__in=wanted)
    if (wanted := search.ids(query, "_id")) is not None:
        rows = rows.filter(pk__in=wanted)
    if (statuses := search.tokens(query, "status")) is not None:
        states = [state for state, fhir in STATUS.items() if fhir in statuses]
        if len(set(statuses) - set(STATUS.values())):
            raise search.invalid(
                "status: ожидается requested, accepted, in-progress, completed или cancelled"
            )
        rows = rows.filter(state__in=states)
    return rows


def task_read(caller: Caller, rid: str) -> dict[str, Any]:
    caller.require("Task", "r")
    try:
        return task(visit_get_for_user(caller.user, _int_id(rid)))
    except Http404 as exc:
        raise api_error(404, "not_found") from exc


def _visit_data(body: Any) -> tuple[int, VisitData]:
    """(patient id, the request's data) from a Task, or a 400 saying what is wrong."""
    if not isinstance(body, dict) or body.get("resourceType") != "Task":
        raise search.invalid("ожидается ресурс Task")
    if body.get("status", "requested") != "requested":
        raise search.invalid("новый вызов создаётся со статусом requested")
    patient_id = _reference_id(body.get("for"), "Patient")
    if patient_id is None:
        raise search.invalid("укажите пациента: for = {reference: Patient/<id>}")
    inputs = body.get("input", [])
    if not isinstance(inputs, list):
        raise search.invalid("input должен быть списком")
    text: dict[str, str] = {}
    codes: dict[str, list[str]] = {"symptom": [], "red-flag": []}
    temperature, consent = "", False
    for row in inputs:
        code = _input_code(row)
        if code in TEXT_INPUTS and isinstance(row.get("valueString"), str):
            text[code] = row["valueString"]
        elif code in codes and isinstance(row.get("valueCoding"), dict):
            codes[code].append(str(row["valueCoding"].get("code", "")))
        elif code == "temperature" and isinstance(row.get("valueQuantity"), dict):
            temperature = str(row["valueQuantity"].get("value", ""))[:10]
        elif code == "consent" and row.get("valueBoolean") is True:
            consent = True
        else:
            raise search.invalid(f"input {code}: неизвестный вид или неверный тип значения")
    return patient_id, VisitData(
        address=text.get("address", ""),
        phone=text.get("phone", ""),
        consent=consent,
        symptoms=codes["symptom"],
        red_flags=codes["red-flag"],
        temperature=temperature,
        details=text.get("details", ""),
        apartment=text.get("apartment", ""),
        entrance=text.get("entrance", ""),
        floor=text.get("floor", ""),
        intercom=text.get("intercom", ""),
    )


def _input_code(row: Any) -> str:
    if not isinstance(row, dict) or not isinstance(row.get("type"), dict):
        raise search.invalid("input: ожидается {type: {coding: [...]}, value…}")
    for coding in row["type"].get("coding", []) or []:
        if isinstance(coding, dict) and coding.get("system") == system("home-visit-input"):
            return str(coding.get("code", ""))[:40]
    raise search.invalid(f"input: type.coding.system должен быть {system('home-visit-input')}")


def task_create(caller: Caller, request: HttpRequest) -> dict[str, Any]:
    caller.require("Task", "c")
    patient_id, data = _visit_data(_body(request))
    try:
        patient = _patient_for(caller, patient_id, request)
    except Http404 as exc:
        raise api_error(403, "not_yours") from exc
    try:
        visit = visit_create(actor=caller.user, patient=patient, data=data, ip=client_ip(request))
    except HomeVisitRefused as refused:
        status = REFUSAL_STATUS.get(refused.code, 422)
        raise FhirError(status, refused.code, refused.message) from refused
    return task_read(caller, str(visit.pk))


# The code systems of the portal's own codes, for the capability statement and the docs.
CODE_SYSTEMS = {
    "home-visit-symptom": sorted(SYMPTOMS),
    "home-visit-red-flag": sorted(RED_FLAGS),
    "home-visit-state": sorted(STATUS),
}
