"""The emulator's HTTP endpoints: ESIA's paths, parameters, answers and error codes.

The login page is stateless: the checked authorization request travels in a signed,
short-lived form field, so the emulator needs no session or CSRF cookie of its own
(cookies are shared between ports of one host).
"""

import logging
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.esia_emulator import people, protocol
from portal.esia_emulator.protocol import ProtocolError

logger = logging.getLogger(__name__)
REQUEST_SALT = "esia-emulator-authorization-request"
REQUEST_MAX_AGE = 900
LEVEL_NAMES = {
    "confirmed": "подтверждённая",
    "standard": "стандартная",
    "simplified": "упрощённая",
    "child": "детская",
}


def _enabled() -> None:
    if not settings.ESIA_EMULATOR_ENABLED:
        raise Http404


def _redirect_back(redirect_uri: str, **params: str) -> HttpResponseRedirect:
    separator = "&" if "?" in redirect_uri else "?"
    return HttpResponseRedirect(redirect_uri + separator + urlencode(params))


def _error_page(request: HttpRequest, error: ProtocolError) -> HttpResponse:
    return render(
        request, "esia_emulator/error.html", {"description": error.description}, status=400
    )


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    _enabled()
    return render(request, "esia_emulator/index.html", {"personas": people.personas()})


@never_cache
@csrf_exempt
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    _enabled()
    if request.method == "POST":
        return _authorize_answer(request)
    params = request.GET.dict()
    try:
        client = protocol.authorization_request_check(params)
    except ProtocolError as error:
        return _error_page(request, error)
    try:
        protocol.authorization_params_check(client, params)
    except ProtocolError as error:
        logger.info("emulator refused an authorization request: ESIA-%s", error.code)
        return _redirect_back(
            params["redirect_uri"],
            error=error.error,
            error_description=error.description,
            state=params.get("state", ""),
        )
    signed = signing.dumps(
        {
            k: params[k]
            for k in ("client_id", "redirect_uri", "scope", "state", "nonce")
            if k in params
        },
        salt=REQUEST_SALT,
    )
    personas = [
        {**p, "level_name": LEVEL_NAMES.get(p["level"], p["level"])} for p in people.personas()
    ]
    response = render(
        request, "esia_emulator/login.html", {"personas": personas, "auth_request": signed}
    )
    # The form answers with a redirect to the system: CSP form-action must allow it.
    response._csp_update = {"form-action": [_origin(params["redirect_uri"])]}  # type: ignore[attr-defined]
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _authorize_answer(request: HttpRequest) -> HttpResponse:
    try:
        params: dict[str, str] = signing.loads(
            request.POST.get("auth_request", ""), salt=REQUEST_SALT, max_age=REQUEST_MAX_AGE
        )
    except signing.BadSignature:
        return _error_page(request, ProtocolError("007014"))
    client = protocol.registered_client(params["client_id"])
    if "cancel" in request.POST:
        error = ProtocolError("007004", "access_denied")
        return _redirect_back(
            params["redirect_uri"],
            error=error.error,
            error_description=error.description,
            state=params["state"],
        )
    persona = people.persona_by_oid(request.POST.get("persona", ""))
    if persona is None:
        return _error_page(request, ProtocolError("007014"))
    code = protocol.code_issue(
        client, persona["oid"], params["scope"], params["redirect_uri"], params.get("nonce", "")
    )
    return _redirect_back(params["redirect_uri"], code=code, state=params["state"])


def _token_error(error: ProtocolError) -> JsonResponse:
    logger.info("emulator refused a token request: ESIA-%s", error.code)
    status = 401 if error.error in ("invalid_client", "unauthorized_client") else 400
    return JsonResponse(
        {"error": error.error, "error_description": error.description}, status=status
    )


@never_cache
@csrf_exempt
@require_POST
def token(request: HttpRequest) -> JsonResponse:
    _enabled()
    params = request.POST.dict()
    try:
        protocol.require(
            params,
            "client_id",
            "code",
            "grant_type",
            "redirect_uri",
            "scope",
            "state",
            "timestamp",
            "token_type",
            "client_secret",
            "client_certificate_hash",
        )
        client = protocol.registered_client(params["client_id"])
        if params["grant_type"] != "authorization_code" or params["token_type"] != "Bearer":
            raise ProtocolError("007014", "unsupported_grant_type")
        if params["redirect_uri"] not in client.redirect_uris:
            raise ProtocolError("007023")
        protocol.check_state(params["state"])
        protocol.check_timestamp(params["timestamp"])
        message = protocol.signed_message(client.client_id, params, params["code"])
        protocol.check_client_secret(client, params, message)
        claims = protocol.code_redeem(client, params["code"], params["redirect_uri"])
    except ProtocolError as error:
        return _token_error(error)
    persona = people.persona_by_oid(str(claims["urn:esia:sbj_id"]))
    if persona is None:
        return _token_error(ProtocolError("007011", "invalid_grant"))
    answer = protocol.tokens_issue(client, persona, claims["scope"], str(claims.get("nonce", "")))
    answer["state"] = params["state"]
    return JsonResponse(answer)


def _rest_error(status: int, code: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": code}, status=status)


def _rest_persona(request: HttpRequest, oid: str, *needed: str) -> dict[str, Any] | JsonResponse:
    _enabled()
    granted = protocol.access_token_check(request.headers.get("Authorization", ""), oid)
    if not granted:
        return _rest_error(401, "ESIA-007011")
    if needed and not granted.intersection(needed):
        return _rest_error(403, "ESIA-007006")
    persona = people.persona_by_oid(oid)
    if persona is None:
        return _rest_error(404, "NOT_FOUND")
    return persona


def _embed(request: HttpRequest) -> set[str]:
    raw = request.GET.get("embed", "").strip("()")
    return {part.strip() for part in raw.split(",") if part.strip()}


def _base(request: HttpRequest, oid: str) -> str:
    return request.build_absolute_uri(f"/rs/prns/{oid}")


@never_cache
@require_GET
def person(request: HttpRequest, oid: str) -> JsonResponse:
    persona = _rest_persona(request, oid, "fullname")
    if isinstance(persona, JsonResponse):
        return persona
    return JsonResponse(people.person(persona, _base(request, oid), _embed(request)))


COLLECTION_SCOPES = {
    "ctts": ("contacts", "email", "mobile"),
    "docs": ("id_doc", "medical_doc", "birth_cert_doc"),
    "kids": ("kid_fullname",),
    "addrs": ("addresses",),
}


COLLECTION_NAMES = {
    "ctts": "contacts",
    "docs": "documents",
    "kids": "kids",
    "addrs": "addresses",
}


@never_cache
@require_GET
def person_collection(request: HttpRequest, oid: str, collection: str) -> JsonResponse:
    if collection not in COLLECTION_SCOPES:
        raise Http404
    persona = _rest_persona(request, oid, *COLLECTION_SCOPES[collection])
    if isinstance(persona, JsonResponse):
        return persona
    name = COLLECTION_NAMES[collection]
    embed = {f"{name}.elements"} if "elements" in _embed(request) else {name}
    full = people.person(persona, _base(request, oid), embed)
    return JsonResponse(full[name])


@never_cache
@require_GET
def kid_documents(request: HttpRequest, oid: str, kid_id: str) -> JsonResponse:
    persona = _rest_persona(request, oid, "kid_medical_doc", "kid_birth_cert_doc")
    if isinstance(persona, JsonResponse):
        return persona
    docs = people.kid_documents(persona, kid_id)
    if docs is None:
        return _rest_error(404, "NOT_FOUND")
    return JsonResponse(people.collection(docs))


@never_cache
@require_GET
def logout(request: HttpRequest) -> HttpResponse:
    """Real ESIA ends its own session and goes back to `redirect_url` of a known system."""
    _enabled()
    client_id = request.GET.get("client_id", "")
    target = request.GET.get("redirect_url", "")
    try:
        client = protocol.registered_client(client_id)
    except ProtocolError as error:
        return _error_page(request, error)
    allowed = {urlsplit(uri)[:2] for uri in client.redirect_uris}
    if target and urlsplit(target)[:2] in allowed:
        return HttpResponseRedirect(target)
    return render(request, "esia_emulator/logged_out.html")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return HttpResponse("Not found", status=404, content_type="text/plain; charset=utf-8")


def server_error(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Server error", status=500, content_type="text/plain; charset=utf-8")


@never_cache
@require_GET
def dev_outbox(request: HttpRequest) -> HttpResponse:
    """Development: every e-mail and SMS the portal wrote, and what the local SMTP sink got."""
    _enabled()
    import json

    from portal.notifications.devsink import mailbox_read
    from portal.notifications.reminders import reminders_planned
    from portal.notifications.selectors import dev_confirmations_with_reminders, dev_messages

    smsc_file = settings.SMSC_EMULATOR_MESSAGES_FILE
    sms = json.loads(smsc_file.read_text()).get("messages", []) if smsc_file.exists() else []
    return render(
        request,
        "esia_emulator/dev_outbox.html",
        {
            # The reminders to come first: their rows are written only when due.
            "rows": [*reminders_planned(dev_confirmations_with_reminders()), *dev_messages()],
            "mailbox": mailbox_read(settings.NOTIFICATIONS_DEV_MAILBOX, 50),
            "sms": sms[:50],
            # The ports this stand was started with, not the defaults (docs/operations.md).
            "smtp_address": f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}",
            "smsc_address": f"{settings.SMPP_HOST or '127.0.0.1'}:{settings.SMPP_PORT}",
        },
    )
