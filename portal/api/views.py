"""Thin HTTP layer of the FHIR API: authenticate, rate-limit, dispatch, answer FHIR JSON.

Nothing here raises past `fhir_endpoint`: refusals become OperationOutcomes.
"""

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.exceptions import Ratelimited
from oauth2_provider.settings import oauth2_settings

from portal.api import capability, home_visit_tasks, patient, public, resources, search
from portal.api.auth import Caller, caller_from_request, fhir_base_url
from portal.api.codes import system
from portal.api.outcomes import FhirError, api_error, error_response, fhir_response
from portal.core.outage import DATABASE_DOWN, RETRY_AFTER_SECONDS
from portal.core.ratelimits import rate_limited

logger = logging.getLogger(__name__)
View = Callable[..., HttpResponse]


def unavailable_response() -> HttpResponse:
    """A database outage as FHIR: OperationOutcome 503 ``transient`` with Retry-After
    (registered with `core.outage` for every path under /fhir/, see apps.py)."""
    unavailable = api_error(503, "unavailable", seconds=RETRY_AFTER_SECONDS)
    unavailable.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return error_response(unavailable, system("error"))


def fhir_endpoint(view: View) -> View:
    """CSRF-exempt (no cookies are read), every refusal an OperationOutcome."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except FhirError as error:
            return error_response(error, system("error"))
        except RequestDataTooBig:
            # Beyond DATA_UPLOAD_MAX_MEMORY_SIZE: Django's own refusal would be HTML.
            too_large = api_error(413, "too_large", kilobytes=patient.MAX_BODY // 1024)
            return error_response(too_large, system("error"))
        except DATABASE_DOWN as exc:
            # Its type only: the text may quote SQL parameters.
            logger.warning("Database unavailable during %s: %s", request.path, type(exc).__name__)
            return unavailable_response()
        except Ratelimited:
            seconds = getattr(request, "ratelimit_retry_after", 60)
            limited = api_error(429, "rate", seconds=seconds)
            limited.headers["Retry-After"] = str(seconds)
            return error_response(limited, system("error"))

    return wrapper


def _limited(names: tuple[str, ...], methods: tuple[str, ...]) -> Callable[[View], View]:
    return rate_limited(*names, methods=methods)


# Per-token limits, and for writes the same per-user and per-IP booking limits as the site.
READ_LIMITS = ("api_token",)
LIMITS_BY_METHOD: dict[str, tuple[str, ...]] = {
    "GET": READ_LIMITS,
    "POST": ("api_token", "api_token_write", "booking_user", "booking_ip"),
    "PUT": ("api_token", "api_token_write", "cancel_user", "cancel_ip"),
    "PATCH": ("api_token", "api_token_write", "cancel_user", "cancel_ip"),
}


def _authenticated(request: HttpRequest) -> Caller:
    """The token's caller, counted against its limits (raises 401/429)."""
    caller = caller_from_request(request)
    request.fhir_caller = caller  # type: ignore[attr-defined]
    # The site's per-user limits key on request.user: the token's user here.
    request.user = caller.user
    method = request.method or "GET"
    names = LIMITS_BY_METHOD.get(method, READ_LIMITS)
    _limited(names, (method,))(lambda r: HttpResponse())(request)
    return caller


PATIENT_TYPES = {"Patient", "RelatedPerson", "Appointment", "ServiceRequest", "Task"}
CREATABLE = {"Appointment", "Task"}


@fhir_endpoint
def not_found(request: HttpRequest) -> HttpResponse:
    raise api_error(404, "not_found")


@fhir_endpoint
def metadata(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        raise api_error(405, "method")
    return fhir_response(capability.capability_statement(fhir_base_url(request)))


@fhir_endpoint
def openapi(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        raise api_error(405, "method")
    response = fhir_response(capability.openapi(fhir_base_url(request)))
    response["Content-Type"] = "application/json; charset=utf-8"
    return response


@fhir_endpoint
def smart_configuration(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        raise api_error(405, "method")
    issuer = oauth2_settings.oauth2_authorization_server_issuer(request)
    response = fhir_response(capability.smart_configuration(fhir_base_url(request), issuer))
    response["Content-Type"] = "application/json; charset=utf-8"
    return response


@fhir_endpoint
def authorization_server_metadata(request: HttpRequest) -> HttpResponse:
    """RFC 8414 metadata, at the site root as the RFC places it."""
    if request.method not in ("GET", "HEAD"):
        raise api_error(405, "method")
    issuer = oauth2_settings.oauth2_authorization_server_issuer(request)
    document = capability.authorization_server_metadata(fhir_base_url(request), issuer)
    response = fhir_response(document)
    response["Content-Type"] = "application/json; charset=utf-8"
    response["Access-Control-Allow-Origin"] = "*"  # public, and read by browser apps
    return response


@fhir_endpoint
def type_endpoint(request: HttpRequest, kind: str) -> HttpResponse:
    base = fhir_base_url(request)
    if request.method in ("GET", "HEAD") and kind in capability.SEARCH_PARAMETERS:
        applied = search.understood_query(request, capability.SEARCH_PARAMETERS[kind])
        request.GET = applied  # type: ignore[assignment]
    if kind in public.SEARCHES:
        if request.method not in ("GET", "HEAD"):
            raise api_error(405, "method")
        rows, render = public.SEARCHES[kind](request.GET)
        prepare = public.PREPARE.get(kind)
        return fhir_response(
            search.searchset(request, rows, render, base=base, kind=kind, prepare=prepare)
        )
    if kind not in PATIENT_TYPES:
        raise api_error(404, "not_found")
    if request.method not in ("GET", "HEAD", "POST") or (
        request.method == "POST" and kind not in CREATABLE
    ):
        raise api_error(405, "method")
    caller = _authenticated(request)
    if kind == "Task":
        return _task_type(request, caller, base)
    if request.method == "POST":
        body, created = patient.appointment_create(caller, request)
        response = _versioned(fhir_response(body, 201 if created else 200))
        response["Location"] = f"{base}/Appointment/{body['id']}"
        return response
    if kind == "Patient":
        return fhir_response(search.bundle_of(base, patient.patient_search(caller, request.GET)))
    if kind == "RelatedPerson":
        found = patient.related_person_search(caller, request.GET)
        return fhir_response(search.bundle_of(base, found))
    if kind == "ServiceRequest":
        referrals = patient.service_request_search(caller, request.GET)
        return fhir_response(
            search.bundle_of(base, [resources.service_request(r) for r in referrals])
        )
    rows = patient.appointment_search(caller, request.GET)
    return fhir_response(
        search.searchset(request, rows, resources.appointment, base=base, kind="Appointment")
    )


def _task_type(request: HttpRequest, caller: Caller, base: str) -> HttpResponse:
    """Home visits (docs/home-visits.md): create, or search the caller's."""
    if request.method == "POST":
        body = home_visit_tasks.task_create(caller, request)
        response = fhir_response(body, 201)
        response["Location"] = f"{base}/Task/{body['id']}"
        return response
    rows = home_visit_tasks.task_search(caller, request.GET)
    return fhir_response(
        search.searchset(request, rows, home_visit_tasks.task, base=base, kind="Task")
    )


@fhir_endpoint
def instance_endpoint(request: HttpRequest, kind: str, rid: str) -> HttpResponse:
    if kind in public.READS:
        if request.method not in ("GET", "HEAD"):
            raise api_error(405, "method")
        return fhir_response(public.READS[kind](rid))
    if kind not in PATIENT_TYPES:
        raise api_error(404, "not_found")
    allowed = ("GET", "HEAD", "PUT", "PATCH") if kind == "Appointment" else ("GET", "HEAD")
    if request.method not in allowed:
        raise api_error(405, "method")
    caller = _authenticated(request)
    if kind == "Task":
        return fhir_response(home_visit_tasks.task_read(caller, rid))
    if kind == "Patient":
        return fhir_response(patient.patient_read(caller, rid, request))
    if kind == "RelatedPerson":
        return fhir_response(patient.related_person_read(caller, rid))
    if kind == "ServiceRequest":
        return fhir_response(patient.service_request_read(caller, rid))
    if request.method in ("PUT", "PATCH"):
        return _versioned(fhir_response(patient.appointment_update(caller, rid, request)))
    return _versioned(fhir_response(patient.appointment_read(caller, rid)))


def _versioned(response: HttpResponse) -> HttpResponse:
    """The ETag of an Appointment answer: its `meta.versionId` (for `If-Match`)."""
    version = json.loads(response.content).get("meta", {}).get("versionId")
    if version:
        response["ETag"] = patient.etag_of(version)
    return response
