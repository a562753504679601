"""What the emulator checks and issues, following ESIA's rules (docs/esia.md §6).

Stateless apart from the set of redeemed codes: codes, access and id tokens are JWTs
signed with the emulator's own GOST key; a code is single use (a cache entry) and lives
two minutes.
"""

import datetime
import re
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache as django_cache

from portal.identity import gost, jwt

CODE_LIFETIME = 120
TOKEN_LIFETIME = 3600
TIMESTAMP_SKEW = 300
TIMESTAMP_RE = re.compile(r"^\d{4}\.\d{2}\.\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}$")
KNOWN_SCOPES = {
    "openid", "fullname", "birthdate", "gender", "snils", "inn", "id_doc", "medical_doc",
    "birth_cert_doc", "email", "mobile", "contacts", "addresses", "kid_fullname",
    "kid_birthdate", "kid_gender", "kid_snils", "kid_birth_cert_doc", "kid_medical_doc",
}  # fmt: skip

ERRORS = {
    "007002": "Сертификат не привязан к системе",
    "007004": "Владелец ресурса или сервис авторизации отклонил запрос",
    "007005": "Система не зарегистрирована",
    "007006": "Запрошенная область доступа не существует",
    "007011": "Код авторизации недействителен, просрочен или уже использован",
    "007013": "Не указана область доступа",
    "007014": "Не указан обязательный параметр",
    "007015": "Неверное время запроса",
    "007023": "redirect_uri не зарегистрирован для системы",
    "007053": "Неверная подпись client_secret",
}


class ProtocolError(Exception):
    def __init__(self, code: str, error: str = "invalid_request") -> None:
        super().__init__(code)
        self.code = code
        self.error = error

    @property
    def description(self) -> str:
        return f"ESIA-{self.code}: {ERRORS[self.code]}"


@dataclass(frozen=True)
class Client:
    client_id: str
    certificate_der: bytes
    redirect_uris: tuple[str, ...]


def registered_client(client_id: str) -> Client:
    """The one system registered in the emulator: the portal, as configured."""
    if client_id != settings.ESIA_CLIENT_ID:
        raise ProtocolError("007005", "unauthorized_client")
    cert = gost.certificate_der(Path(settings.ESIA_CLIENT_CERT).read_bytes())
    return Client(client_id, cert, (settings.ESIA_REDIRECT_URI,))


@cache
def _emulator_key(path: str) -> gost.GostPrivateKey:
    return gost.GostPrivateKey.from_pem(Path(path).read_text())


def emulator_key() -> gost.GostPrivateKey:
    return _emulator_key(str(settings.ESIA_EMULATOR_KEY))


def emulator_certificate() -> bytes:
    return gost.certificate_der(Path(settings.ESIA_EMULATOR_CERT).read_bytes())


def require(params: dict[str, str], *names: str) -> None:
    for name in names:
        if not params.get(name):
            raise ProtocolError("007014")


def check_timestamp(value: str, now: float | None = None) -> None:
    if not TIMESTAMP_RE.match(value):
        raise ProtocolError("007015")
    moment = datetime.datetime.strptime(value, "%Y.%m.%d %H:%M:%S %z").timestamp()
    if abs((time.time() if now is None else now) - moment) > TIMESTAMP_SKEW:
        raise ProtocolError("007015")


def check_scopes(scope: str) -> list[str]:
    scopes = scope.split()
    if not scopes or "openid" not in scopes:
        raise ProtocolError("007013", "invalid_scope")
    if any(s not in KNOWN_SCOPES for s in scopes):
        raise ProtocolError("007006", "invalid_scope")
    return scopes


def check_client_secret(client: Client, params: dict[str, str], message: str) -> None:
    if params.get("client_certificate_hash", "").lower() != gost.certificate_hash(
        client.certificate_der
    ):
        raise ProtocolError("007002", "unauthorized_client")
    try:
        signature = jwt.b64url_decode(params.get("client_secret", ""))
    except ValueError as exc:
        raise ProtocolError("007053", "invalid_client") from exc
    _, public = gost.certificate_public_key(client.certificate_der)
    if not gost.verify_openssl_order(public, message.encode(), signature):
        raise ProtocolError("007053", "invalid_client")


def signed_message(client_id: str, params: Mapping[str, str], code: str = "") -> str:
    """What the client_secret signs: client_id + scope + scope_org + timestamp + state +
    redirect_uri, plus the code at the token endpoint (docs/esia.md §6)."""
    return (
        client_id
        + params["scope"]
        + params.get("scope_org", "")
        + params["timestamp"]
        + params["state"]
        + params["redirect_uri"]
        + code
    )


def check_state(state: str) -> None:
    try:
        uuid.UUID(state)
    except ValueError as exc:
        raise ProtocolError("007014") from exc


def authorization_request_check(params: dict[str, str]) -> Client:
    """The checks of GET /aas/oauth2/v2/ac. Client and redirect_uri first: until they
    are known good, errors cannot be sent back to the system."""
    require(params, "client_id", "redirect_uri")
    client = registered_client(params["client_id"])
    if params["redirect_uri"] not in client.redirect_uris:
        raise ProtocolError("007023")
    return client


def authorization_params_check(client: Client, params: dict[str, str]) -> None:
    require(
        params,
        "client_certificate_hash",
        "client_secret",
        "scope",
        "response_type",
        "state",
        "timestamp",
    )
    if params["response_type"] != "code":
        raise ProtocolError("007014", "unsupported_response_type")
    check_state(params["state"])
    check_scopes(params["scope"])
    check_timestamp(params["timestamp"])
    check_client_secret(client, params, signed_message(client.client_id, params))


def _sign(payload: dict[str, Any], sbt: str) -> str:
    return jwt.encode(payload, emulator_key().sign, sbt=sbt)


def code_issue(client: Client, oid: str, scope: str, redirect_uri: str, nonce: str = "") -> str:
    """The code carries the authorization request's nonce into the id_token (OIDC Core
    3.1.2.1 / 3.1.3.7), which is what binds the code to the browser that asked."""
    now = int(time.time())
    return _sign(
        {
            **({"nonce": nonce} if nonce else {}),
            "iss": settings.ESIA_EMULATOR_ISSUER,
            "client_id": client.client_id,
            "urn:esia:sbj_id": oid,
            "scope": scope,
            "redirect_uri": redirect_uri,
            "jti": secrets.token_hex(16),
            "iat": now,
            "nbf": now,
            "exp": now + CODE_LIFETIME,
        },
        "code",
    )


def code_redeem(client: Client, code: str, redirect_uri: str) -> dict[str, Any]:
    try:
        claims = jwt.verify(code, emulator_certificate(), issuer=settings.ESIA_EMULATOR_ISSUER)
    except jwt.TokenError as exc:
        raise ProtocolError("007011", "invalid_grant") from exc
    # Codes expire for real after two minutes, without the leeway granted to clocks.
    if claims.get("client_id") != client.client_id or claims["exp"] < time.time():
        raise ProtocolError("007011", "invalid_grant")
    if claims.get("redirect_uri") != redirect_uri:
        raise ProtocolError("007023")
    if not django_cache.add(f"esia-emulator-code:{claims['jti']}", 1, CODE_LIFETIME * 2):
        raise ProtocolError("007011", "invalid_grant")
    return claims


def tokens_issue(
    client: Client, persona: dict[str, Any], scope: str, nonce: str = ""
) -> dict[str, Any]:
    oid = persona["oid"]
    now = int(time.time())
    sid = secrets.token_hex(12)
    common = {"iss": settings.ESIA_EMULATOR_ISSUER, "iat": now, "nbf": now}
    scopes = [s if s == "openid" else f"{s}?oid={oid}" for s in scope.split()]
    access = _sign(
        {
            **common,
            "exp": now + TOKEN_LIFETIME,
            "client_id": client.client_id,
            "urn:esia:sid": sid,
            "urn:esia:sbj_id": int(oid),
            "scope": " ".join(scopes),
        },
        "access",
    )
    subject: dict[str, Any] = {
        "urn:esia:sbj:typ": "P",
        "urn:esia:sbj:oid": int(oid),
        "urn:esia:sbj:nam": f"OID.{oid}",
        "urn:esia:sbj:lvl": {"confirmed": "PR", "child": "KD"}.get(persona["level"], "P"),
    }
    if persona["level"] == "confirmed":
        subject["urn:esia:sbj:is_tru"] = True
    id_token = _sign(
        {
            **common,
            "exp": now + TOKEN_LIFETIME,
            "aud": client.client_id,
            "sub": int(oid),
            "auth_time": now,
            "amr": "PWD",
            "urn:esia:amd": "PWD",
            "urn:esia:sid": sid,
            "urn:esia:sbj": subject,
            **({"nonce": nonce} if nonce else {}),
        },
        "id",
    )
    return {
        "access_token": access,
        "id_token": id_token,
        "refresh_token": str(uuid.uuid4()),
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
    }


@lru_cache(maxsize=256)
def _access_claims(token: str, issuer: str) -> dict[str, Any] | None:
    """Verified once per token: one login reads several REST resources with it, and
    pure-Python GOST verification is slow."""
    try:
        return jwt.verify(token, emulator_certificate(), issuer=issuer)
    except jwt.TokenError:
        return None


def access_token_check(header: str, oid: str) -> set[str]:
    """The scopes a Bearer token grants on this person's data (empty if none)."""
    if not header.startswith("Bearer "):
        return set()
    claims = _access_claims(header.removeprefix("Bearer "), settings.ESIA_EMULATOR_ISSUER)
    if claims is None or claims["exp"] < time.time():
        return set()
    if str(claims.get("urn:esia:sbj_id")) != oid:
        return set()
    granted = set()
    for item in str(claims.get("scope", "")).split():
        name, _, param = item.partition("?oid=")
        if not param or param == oid:
            granted.add(name)
    return granted
