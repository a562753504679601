"""The patient-facing resources: Patient, RelatedPerson and Appointment for a token's user.

Who may act for whom is decided by `patients.selectors` only; booking and cancelling
go through `scheduling.services` only (same rules, locks and idempotency as the pages).
"""

import json
import uuid
from typing import Any

from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, QueryDict

from portal.api import resources, search
from portal.api.auth import Caller
from portal.api.outcomes import api_error, booking_error
from portal.api.queries import (
    Appointment,
    BookingNote,
    BookingRefused,
    Guardianship,
    Patient,
    Referral,
    Sight,
    appointment_book,
    appointment_cancel,
    appointment_get_for_user,
    appointments_visible,
    patient_for_actor,
    patients_actable_by,
    referral_state,
    referrals_visible,
    slot_glance,
    today,
    visibility_for,
)
from portal.core.digits import is_ascii_digits
from portal.core.http import client_ip

MAX_BODY = 64 * 1024
MAX_REQUEST_ID = 200
JSON_TYPES = ("application/fhir+json", "application/json", "application/json-patch+json")


def _int_id(rid: str) -> int:
    number = search.id_of(rid)
    if number is None:
        raise api_error(404, "not_found")
    return number


def patient_search(caller: Caller, query: QueryDict) -> list[dict[str, Any]]:
    caller.require("Patient", "r")
    rows = patients_actable_by(caller.user).order_by("pk")
    if (wanted := search.ids(query, "_id")) is not None:
        rows = rows.filter(pk__in=wanted)
    seen = visibility_for(caller.user)
    return [resources.patient(p, in_full=seen.of_patient(p.pk) is Sight.FULL) for p in rows]


def _patient_for(caller: Caller, patient_id: int, request: HttpRequest) -> Patient:
    """The site's own check (`patients.services.patient_for_actor`): a refusal goes into
    the target's journal as on the site, at most once an hour per caller."""
    return patient_for_actor(
        actor=caller.user,
        patient_id=patient_id,
        ip=client_ip(request),
        path=request.path,
        device="API",
    )


def patient_read(caller: Caller, rid: str, request: HttpRequest) -> dict[str, Any]:
    caller.require("Patient", "r")
    try:
        patient = _patient_for(caller, _int_id(rid), request)
    except Http404 as exc:
        raise api_error(404, "not_found") from exc
    in_full = visibility_for(caller.user).of_patient(patient.pk) is Sight.FULL
    return resources.patient(patient, in_full=in_full)


def _guardianships(caller: Caller) -> Any:
    """The caller as the guardian of each child the selectors let them act for."""
    return (
        Guardianship.objects.filter(
            guardian__user=caller.user,
            ended_at__isnull=True,
            child__in=patients_actable_by(caller.user),
        )
        .select_related("guardian")
        .order_by("pk")
    )


def related_person_search(caller: Caller, query: QueryDict) -> list[dict[str, Any]]:
    caller.require("Patient", "r")
    rows = _guardianships(caller)
    if (wanted := search.ids(query, "patient", "Patient")) is not None:
        rows = rows.filter(child_id__in=wanted)
    return [resources.related_person(g) for g in rows]


def related_person_read(caller: Caller, rid: str) -> dict[str, Any]:
    caller.require("Patient", "r")
    row = _guardianships(caller).filter(pk=_int_id(rid)).first()
    if row is None:
        raise api_error(404, "not_found")
    return resources.related_person(row)


def _appointments(caller: Caller) -> Any:
    """What the caller may see, by the pages' one rule (`appointments_visible`): every
    search parameter narrows this set, none widens it. Each row carries the referral
    that backs it (``referral_pk``, for ``basedOn``), read in the page's one query."""
    backing = Referral.objects.filter(appointment_id=OuterRef("pk")).values("pk")[:1]
    return (
        appointments_visible(caller.user)
        .annotate(referral_pk=Subquery(backing))
        .order_by("-starts_at", "-pk")
    )


APPOINTMENT_STATUS = {
    "booked": ["booked"],
    "cancelled": ["cancelled_patient", "cancelled_clinic"],
    "fulfilled": ["attended"],
    "noshow": ["no_show"],
}


def appointment_search(caller: Caller, query: QueryDict) -> Any:
    caller.require("Appointment", "s")
    rows = _appointments(caller)
    if (wanted := search.ids(query, "patient", "Patient")) is not None:
        rows = rows.filter(patient_id__in=wanted)
    if (wanted := search.ids(query, "_id")) is not None:
        rows = rows.filter(pk__in=wanted)
    if (statuses := search.tokens(query, "status")) is not None:
        if not set(statuses) <= set(APPOINTMENT_STATUS):
            raise search.invalid("status: ожидается booked, cancelled, fulfilled или noshow")
        rows = rows.filter(status__in=[s for st in statuses for s in APPOINTMENT_STATUS[st]])
    return rows.filter(search.date_filter(query, "date", "starts_at"))


def appointment_read(caller: Caller, rid: str) -> dict[str, Any]:
    caller.require("Appointment", "r")
    return resources.appointment(_appointment_of(caller, rid))


def _appointment_of(caller: Caller, rid: str) -> Appointment:
    try:
        return appointment_get_for_user(caller.user, _int_id(rid))
    except Http404 as exc:
        raise api_error(404, "not_found") from exc


# --- referrals (ServiceRequest) ---------------------------------------------------------

# ServiceRequest.status -> the referral states it stands for (`resources.SERVICE_REQUEST_STATUS`).
SERVICE_REQUEST_STATES = {
    "active": "active",
    "completed": "used",
    "revoked": "expired",
    "entered-in-error": "cancelled",
}


def service_request_search(caller: Caller, query: QueryDict) -> list[Referral]:
    """The caller's and their children's referrals, by the pages' one rule of visibility
    (`referrals.selectors.referrals_visible`): a search parameter only narrows it."""
    caller.require("ServiceRequest", "s")
    rows = referrals_visible(caller.user).order_by("-issued_on", "-pk")
    if (wanted := search.ids(query, "patient", "Patient")) is not None:
        rows = rows.filter(patient_id__in=wanted)
    if (wanted := search.ids(query, "_id")) is not None:
        rows = rows.filter(pk__in=wanted)
    found = list(rows[:200])
    if (statuses := search.tokens(query, "status")) is not None:
        if not set(statuses) <= set(SERVICE_REQUEST_STATES):
            raise search.invalid(
                "status: ожидается active, completed, revoked или entered-in-error"
            )
        states = {SERVICE_REQUEST_STATES[s] for s in statuses}
        day = today()
        found = [r for r in found if referral_state(r, day) in states]
    return found


def service_request_read(caller: Caller, rid: str) -> dict[str, Any]:
    caller.require("ServiceRequest", "r")
    row = referrals_visible(caller.user).filter(pk=_int_id(rid)).first()
    if row is None:
        raise api_error(404, "not_found")
    return resources.service_request(row)


# --- writes ---------------------------------------------------------------------------


def _body(request: HttpRequest) -> Any:
    content_type = request.content_type or ""
    if content_type not in JSON_TYPES:
        raise api_error(415, "unsupported", detail="тело запроса должно быть application/fhir+json")
    declared = request.META.get("CONTENT_LENGTH") or ""
    if is_ascii_digits(declared) and int(declared) > MAX_BODY:
        raise api_error(413, "too_large", kilobytes=MAX_BODY // 1024)  # not even read
    if len(request.body) > MAX_BODY:  # Django refuses beyond its own limit (views.py)
        raise api_error(413, "too_large", kilobytes=MAX_BODY // 1024)
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise search.invalid("тело запроса не является JSON") from exc


def _reference_id(value: Any, kind: str) -> int | None:
    if not isinstance(value, dict):
        return None
    reference = value.get("reference")
    if not isinstance(reference, str) or not reference.startswith(f"{kind}/"):
        return None
    return search.id_of(reference[len(kind) + 1 :])


def _based_on(body: dict[str, Any]) -> int | None:
    """The referral a booking uses: ``basedOn = [{reference: ServiceRequest/<id>}]``, or
    none (the booking service takes the one that expires first, as on the site)."""
    based_on = body.get("basedOn")
    if based_on is None:
        return None
    if not isinstance(based_on, list) or len(based_on) != 1:
        raise search.invalid("basedOn: укажите одно направление [{reference: ServiceRequest/…}]")
    referral_id = _reference_id(based_on[0], "ServiceRequest")
    if referral_id is None:
        raise search.invalid("basedOn.reference должен иметь вид ServiceRequest/<id>")
    return referral_id


def _booking_request(body: Any) -> tuple[int, int]:
    """(slot id, patient id) from an Appointment resource, or a 400 saying what is wrong."""
    if not isinstance(body, dict) or body.get("resourceType") != "Appointment":
        raise search.invalid("ожидается ресурс Appointment")
    status = body.get("status", "booked")
    if status in ("proposed", "pending"):
        # Those mean "not yet booked" (FHIR R4 Appointment.status); the portal keeps no
        # tentative bookings, so it must not book them (issue 23: it did).
        raise api_error(422, "tentative", value=status)
    if status != "booked":
        raise search.invalid("новая запись создаётся со статусом booked")
    slots = body.get("slot")
    if not isinstance(slots, list) or len(slots) != 1:
        raise search.invalid("укажите ровно одно время приёма: slot = [{reference: Slot/…}]")
    slot_id = _reference_id(slots[0], "Slot")
    if slot_id is None:
        raise search.invalid("slot.reference должен иметь вид Slot/<id>")
    participants = body.get("participant")
    if not isinstance(participants, list):
        raise search.invalid("укажите пациента: participant = [{actor: {reference: Patient/…}}]")
    patient_ids = {
        pid
        for p in participants
        if isinstance(p, dict) and (pid := _reference_id(p.get("actor"), "Patient")) is not None
    }
    if len(patient_ids) != 1:
        raise search.invalid("укажите ровно одного пациента: actor = Patient/<id>")
    return slot_id, patient_ids.pop()


def _request_id(caller: Caller, request: HttpRequest) -> uuid.UUID:
    raw = request.headers.get("X-Request-Id", "").strip()
    if not raw:
        return uuid.uuid4()  # no idempotency asked for: every request is a new booking
    if len(raw) > MAX_REQUEST_ID:
        raise search.invalid("X-Request-Id длиннее 200 символов")
    return caller.idempotency_key(raw)


def appointment_create(caller: Caller, request: HttpRequest) -> tuple[dict[str, Any], bool]:
    """Book a free slot; returns the Appointment and whether it was created now."""
    caller.require("Appointment", "c")
    body = _body(request)
    slot_id, patient_id = _booking_request(body)
    referral_id = _based_on(body)
    note = _booking_note(body)
    key = _request_id(caller, request)
    try:
        patient = _patient_for(caller, patient_id, request)
    except Http404 as exc:
        # 403, whether the id exists or not: nothing about strangers is revealed.
        raise api_error(403, "not_yours") from exc
    # One lock-free read says whether the slot exists; the booking's early refusal
    # answers from it instead of reading the slot again.
    glance = slot_glance(slot_id)
    if glance is None:
        raise api_error(404, "not_found")
    try:
        result = appointment_book(
            actor=caller.user,
            patient=patient,
            slot_id=slot_id,
            idempotency_key=key,
            ip=client_ip(request),
            referral_id=referral_id,
            note=note,
            glance=glance,
        )
    except BookingRefused as refused:
        raise booking_error(refused) from refused
    booked = result.appointment
    if not result.created and (booked.slot_id != slot_id or booked.patient_id != patient.pk):
        raise api_error(422, "request_id_reused")
    # A new appointment comes back from the booking service holding what the resource
    # shows (its slot with the doctor and clinic, its specialty and patient), and the
    # caller who booked it may see it: no second read. A replay is read as any other.
    appointment = booked if result.created else _appointment_of(caller, str(booked.pk))
    return resources.appointment(appointment), result.created


def _wants_cancel(request: HttpRequest, body: Any) -> bool:
    if request.method == "PATCH" and isinstance(body, list):
        return bool(body) and all(
            isinstance(op, dict)
            and op.get("op") in ("replace", "add")
            and op.get("path") == "/status"
            and op.get("value") == "cancelled"
            for op in body
        )
    if isinstance(body, dict):
        if body.get("resourceType") != "Appointment":
            raise search.invalid("ожидается ресурс Appointment")
        return body.get("status") == "cancelled"
    raise search.invalid("ожидается ресурс Appointment или JSON Patch")


def appointment_update(caller: Caller, rid: str, request: HttpRequest) -> dict[str, Any]:
    """PUT or PATCH that sets status to cancelled; anything else is refused (422)."""
    caller.require("Appointment", "u")
    body = _body(request)
    appointment = _appointment_of(caller, rid)
    if isinstance(body, dict) and body.get("id") not in (None, rid):
        raise search.invalid("id в теле не совпадает с адресом")
    if not _wants_cancel(request, body):
        raise api_error(422, "only_cancel")
    _version_check(request, appointment)
    try:
        appointment_cancel(
            actor=caller.user,
            appointment=appointment,
            ip=client_ip(request),
            reason=_cancellation_reason(body),
        )
    except BookingRefused as refused:
        raise booking_error(refused) from refused
    return resources.appointment(_appointment_of(caller, rid))


def etag_of(version: str) -> str:
    return f'W/"{version}"'


def _version_check(request: HttpRequest, appointment: Appointment) -> None:
    """`If-Match` (FHIR's version-aware update): a client that read an older version is
    told 412 instead of changing what it has not seen (issue 23: a stale one succeeded)."""
    wanted = request.headers.get("If-Match", "").strip()
    if not wanted or wanted == "*":
        return
    current = resources.appointment_version(appointment)
    if wanted not in (etag_of(current), f'"{current}"', current):
        raise api_error(412, "version_conflict")


def _cancellation_reason(body: Any) -> str:
    """The app's `cancelationReason.text`, kept with the cancellation (it was dropped)."""
    if not isinstance(body, dict):
        return ""
    reason = body.get("cancelationReason")
    text = reason.get("text") if isinstance(reason, dict) else None
    return text.strip()[:300] if isinstance(text, str) else ""


def _text_field(value: Any, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise search.invalid(f"{name}: ожидается строка")
    text = " ".join(value.split())  # line breaks and control whitespace become spaces
    if len(text) > limit:
        raise search.invalid(f"{name}: не длиннее {limit} символов")
    if any(ord(char) < 32 for char in text):
        raise search.invalid(f"{name}: недопустимые символы")
    return text


def _booking_note(body: dict[str, Any]) -> BookingNote:
    """`comment` and the first `reasonCode`'s text (or coding display), kept with the
    appointment and returned (issue 23: they were dropped)."""
    reasons = body.get("reasonCode")
    reason: Any = None
    if isinstance(reasons, list) and reasons and isinstance(reasons[0], dict):
        codings = reasons[0].get("coding")
        display = codings[0].get("display") if isinstance(codings, list) and codings else None
        reason = reasons[0].get("text") or display
    elif reasons is not None:
        raise search.invalid("reasonCode: ожидается список CodeableConcept")
    return BookingNote(
        comment=_text_field(body.get("comment"), "comment", 500),
        reason=_text_field(reason, "reasonCode", 300),
    )
