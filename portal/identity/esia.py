"""The ESIA client: authorization request, token exchange, id_token check, REST data.

Protocol facts and parameter orders are in docs/esia.md §6 (current v2/v3 endpoints).
Every outbound call has a timeout; failures become `EsiaError` with a short kind that
the views turn into a clear page, and logs never carry personal data.
"""

import logging
import secrets
import ssl
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from django.conf import settings
from django.utils import timezone

from portal.core.digits import is_ascii_digits
from portal.identity import gost, jwt
from portal.identity.deadline import Deadline, DeadlineTransport
from portal.identity.signers import SignerError, client_signer

logger = logging.getLogger(__name__)

PERSON_EMBED = "(documents.elements,contacts.elements,kids.elements,addresses.elements)"
OID_MAX_LENGTH = 32  # User.esia_oid and Patient.esia_oid


class EsiaError(Exception):
    """`kind`: unavailable | rejected | token | signer | data. `code`: ESIA-007xxx if any."""

    def __init__(self, kind: str, code: str = "", detail: str = "") -> None:
        super().__init__(f"{kind} {code} {detail}".strip())
        self.kind = kind
        self.code = code
        self.detail = detail


@dataclass
class EsiaPerson:
    oid: str
    claims: dict[str, Any]
    person: dict[str, Any]
    contacts: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    kids: list[dict[str, Any]] = field(default_factory=list)
    addresses: list[dict[str, Any]] = field(default_factory=list)


def esia_timestamp() -> str:
    """`yyyy.MM.dd HH:mm:ss Z`, e.g. `2025.09.02 13:00:29 +0300`."""
    return timezone.localtime().strftime("%Y.%m.%d %H:%M:%S %z")


def new_state() -> str:
    return str(uuid.uuid4())


def new_nonce() -> str:
    """Bound to the browser that starts the login and echoed in the id_token: a code
    obtained by someone else cannot be redeemed from a login that this browser began
    (a state alone does not stop that; see docs/esia.md, "Binding the code")."""
    return secrets.token_urlsafe(24)


def _client_fields(state: str, timestamp: str, extra: str = "") -> dict[str, str]:
    """client_id, scope, timestamp, state, redirect_uri and the signed client_secret over
    client_id + scope + scope_org + timestamp + state + redirect_uri (+ code)."""
    signer = client_signer()
    scope = settings.ESIA_SCOPES
    message = settings.ESIA_CLIENT_ID + scope + timestamp + state + settings.ESIA_REDIRECT_URI
    try:
        signature = signer.sign((message + extra).encode())
    except (SignerError, OSError) as exc:
        logger.error("ESIA client_secret signing failed: %s", exc)
        raise EsiaError("signer") from exc
    return {
        "client_id": settings.ESIA_CLIENT_ID,
        "client_certificate_hash": gost.certificate_hash(signer.certificate_der),
        "client_secret": jwt.b64url(signature),
        "redirect_uri": settings.ESIA_REDIRECT_URI,
        "scope": scope,
        "state": state,
        "timestamp": timestamp,
    }


def authorization_url(state: str, nonce: str = "") -> str:
    try:
        params = _client_fields(state, esia_timestamp())
    except FileNotFoundError as exc:
        logger.error("ESIA client key or certificate file is missing")
        raise EsiaError("signer") from exc
    params |= {"response_type": "code", "access_type": "online"}
    if nonce:
        params["nonce"] = nonce
    return f"{settings.ESIA_BASE_URL}/aas/oauth2/v2/ac?{urlencode(params)}"


def logout_url() -> str:
    query = urlencode(
        {"client_id": settings.ESIA_CLIENT_ID, "redirect_url": settings.ESIA_LOGOUT_REDIRECT_URL}
    )
    return f"{settings.ESIA_BASE_URL}/idp/ext/Logout?{query}"


@cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle takes ~50 ms; do it once per process, not per request.
    return ssl.create_default_context()


CONNECT_SECONDS = 5.0
MAX_PARALLEL_KIDS = 4


def login_deadline() -> Deadline:
    """The one deadline of a login callback: every ESIA call of it ends before it."""
    return Deadline(float(settings.ESIA_LOGIN_DEADLINE_SECONDS))


def _http(deadline: Deadline | None = None) -> httpx.Client:
    """A client whose sockets never wait past ``deadline`` (by default a fresh login's).

    Each single wait is also capped by ESIA_TIMEOUT_SECONDS and connecting by 5 s.
    """
    deadline = deadline or login_deadline()
    return httpx.Client(
        timeout=deadline.timeout(CONNECT_SECONDS, float(settings.ESIA_TIMEOUT_SECONDS)),
        transport=DeadlineTransport(deadline, _tls_context()),
    )


def _esia_code(payload: Any) -> str:
    description = str(payload.get("error_description", "")) if isinstance(payload, dict) else ""
    return description.split(":", 1)[0].strip() if description.startswith("ESIA-") else ""


def tokens_exchange(code: str, deadline: Deadline | None = None) -> dict[str, Any]:
    """POST /aas/oauth2/v3/te with a fresh state, timestamp and client_secret.

    ESIA echoes that state in its answer (docs/esia.md): an answer echoing another, or
    none, was not made for this request (a replayed or spliced response) and is refused.
    """
    state = new_state()
    fields = _client_fields(state, esia_timestamp(), extra=code)
    fields |= {"code": code, "grant_type": "authorization_code", "token_type": "Bearer"}
    try:
        with _http(deadline) as http:
            response = http.post(f"{settings.ESIA_BASE_URL}/aas/oauth2/v3/te", data=fields)
    except httpx.HTTPError as exc:
        logger.warning("ESIA token endpoint unreachable: %s", type(exc).__name__)
        raise EsiaError("unavailable") from exc
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if response.status_code >= 500 or payload is None:
        logger.warning("ESIA token endpoint answered HTTP %s", response.status_code)
        raise EsiaError("unavailable")
    if response.status_code != 200 or "id_token" not in payload:
        esia_code = _esia_code(payload)
        logger.warning("ESIA refused the token request: %s", esia_code or response.status_code)
        raise EsiaError("rejected", esia_code)
    if payload.get("state") != state:
        logger.warning("ESIA token answer echoes another state: refused")
        raise EsiaError("token", detail="state")
    return dict(payload)


def _esia_certificate() -> bytes:
    try:
        return gost.certificate_der(Path(settings.ESIA_CERT).read_bytes())
    except (OSError, ValueError) as exc:
        logger.error("ESIA certificate (ESIA_CERT) cannot be read")
        raise EsiaError("signer") from exc


def id_token_verify(token: str, nonce: str | None = None) -> dict[str, Any]:
    """The checks of docs/domain.md, «Identity», plus the nonce this browser's login sent.

    An id_token without a nonce passes only while ESIA_NONCE_REQUIRED is off (ESIA is
    not documented to echo it); one with a different nonce never does.
    """
    try:
        claims = jwt.verify(
            token,
            _esia_certificate(),
            issuer=settings.ESIA_ISSUER,
            audience=settings.ESIA_CLIENT_ID,
        )
    except jwt.TokenError as exc:
        logger.warning("ESIA id_token rejected: %s", exc.reason)
        raise EsiaError("token", detail=exc.reason) from exc
    if nonce is not None:
        _nonce_check(claims.get("nonce"), nonce)
    subject = claims.get("urn:esia:sbj") or {}
    oid = str(claims.get("sub") or subject.get("urn:esia:sbj:oid") or "")
    # ASCII digits only: int("١٢٣") == 123, so other digits would name a second account.
    if not is_ascii_digits(oid) or len(oid) > OID_MAX_LENGTH:
        logger.warning("ESIA id_token has no valid subject oid")
        raise EsiaError("token", detail="sub")
    return claims


def _nonce_check(carried: Any, expected: str) -> None:
    if carried is None and not settings.ESIA_NONCE_REQUIRED:
        return
    if not isinstance(carried, str) or not secrets.compare_digest(carried, expected):
        logger.warning("ESIA id_token rejected: nonce")
        raise EsiaError("token", detail="nonce")


def _get_json(http: httpx.Client, url: str, access_token: str) -> dict[str, Any]:
    try:
        response = http.get(
            url,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        )
    except httpx.HTTPError as exc:
        logger.warning("ESIA REST unreachable: %s", type(exc).__name__)
        raise EsiaError("unavailable") from exc
    if response.status_code != 200:
        logger.warning("ESIA REST answered HTTP %s", response.status_code)
        raise EsiaError("unavailable" if response.status_code >= 500 else "data")
    try:
        return dict(response.json())
    except ValueError as exc:
        raise EsiaError("data") from exc


def _elements(collection: Any) -> list[dict[str, Any]]:
    if not isinstance(collection, dict):
        return []
    return [e for e in collection.get("elements", []) if isinstance(e, dict)]


def _kid_documents(url: str, access_token: str, deadline: Deadline) -> dict[str, Any] | None:
    try:
        with _http(deadline) as http:
            return _get_json(http, url, access_token)
    except EsiaError:
        logger.info("ESIA kid documents unavailable")
        return None


def _kids_documents_fill(
    base: str, kids: list[dict[str, Any]], access_token: str, deadline: Deadline
) -> None:
    """Each child's documents, fetched side by side: three children cost one call's time.

    They are not needed to log in: the per-kid path is not even confirmed for real
    ESIA, and without it a kid simply has no policy and the parent types it in. So a
    child whose documents do not arrive by the deadline is kept without them.
    """
    wanted = [
        kid for kid in kids if "documents" not in kid and is_ascii_digits(str(kid.get("id", "")))
    ]
    if not wanted or deadline.expired():
        return
    with ThreadPoolExecutor(max_workers=min(len(wanted), MAX_PARALLEL_KIDS)) as pool:
        futures = [
            pool.submit(
                _kid_documents,
                f"{base}/kids/{kid['id']}/docs?embed=(elements)",
                access_token,
                deadline,
            )
            for kid in wanted
        ]
        for kid, future in zip(wanted, futures, strict=True):
            documents = future.result()
            if documents is not None:
                kid["documents"] = documents


def person_fetch(
    oid: str, claims: dict[str, Any], access_token: str, deadline: Deadline | None = None
) -> EsiaPerson:
    base = f"{settings.ESIA_BASE_URL}/rs/prns/{oid}"
    deadline = deadline or login_deadline()
    with _http(deadline) as http:
        person = _get_json(http, f"{base}?embed={PERSON_EMBED}", access_token)
    kids = _elements(person.get("kids"))
    _kids_documents_fill(base, kids, access_token, deadline)
    return EsiaPerson(
        oid=oid,
        claims=claims,
        person=person,
        contacts=_elements(person.get("contacts")),
        documents=_elements(person.get("documents")),
        kids=kids,
        addresses=_elements(person.get("addresses")),
    )
