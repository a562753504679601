"""Writes of the API app: registering a client and withdrawing a patient's consent."""

import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db import transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken
from oauth2_provider.scopes import get_scopes_backend
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request as OAuthRequest

from portal.api.queries import patient_of_user
from portal.identity.models import User


@dataclass(frozen=True)
class Registered:
    application: Application
    secret: str  # a confidential client's secret in clear, to be shown once; "" otherwise


def client_register(
    *, name: str, redirect_uris: list[str], confidential: bool = False
) -> Application:
    """A mobile app (public client, PKCE) or a server (confidential) using authorization code."""
    return client_register_with_secret(
        name=name, redirect_uris=redirect_uris, confidential=confidential
    ).application


def client_register_with_secret(
    *, name: str, redirect_uris: list[str], confidential: bool = False
) -> Registered:
    """As `client_register`, with the secret in clear: the library stores only its hash, so
    this is the one moment it can be told to the operator."""
    secret = generate_client_secret() if confidential else ""
    application = Application.objects.create(
        name=name,
        client_secret=secret,
        client_type=(
            Application.CLIENT_CONFIDENTIAL if confidential else Application.CLIENT_PUBLIC
        ),
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(redirect_uris),
        skip_authorization=False,
    )
    return Registered(application, secret)


@transaction.atomic
def consent_withdraw(*, user: User, application_id: int) -> int:
    """Revoke every token and pending code the app holds for the user; returns how many.

    The app must ask for consent again; its refresh tokens stop working at once.
    """
    revoked = 0
    for refresh in RefreshToken.objects.filter(
        user=user, application_id=application_id, revoked__isnull=True
    ):
        refresh.revoke()
        revoked += 1
    deleted, _ = AccessToken.objects.filter(user=user, application_id=application_id).delete()
    Grant.objects.filter(user=user, application_id=application_id).delete()
    return revoked + int(deleted)


def consents_of(user: User) -> list[dict[str, object]]:
    """Apps the user has let in and that can still act: a live refresh or access token."""
    now = timezone.now()
    apps: dict[int, dict[str, object]] = {}
    live_access = AccessToken.objects.filter(user=user, expires__gt=now).select_related(
        "application"
    )
    live_refresh = RefreshToken.objects.filter(user=user, revoked__isnull=True).select_related(
        "application", "access_token"
    )
    for token in [*live_access, *live_refresh]:
        if token.application is None:
            continue
        entry = apps.setdefault(
            token.application.pk,
            {"application": token.application, "since": token.created, "scopes": set()},
        )
        entry["since"] = min(entry["since"], token.created)
        scope = getattr(token, "scope", None) or getattr(
            getattr(token, "access_token", None), "scope", ""
        )
        entry["scopes"].update((scope or "").split())  # type: ignore[attr-defined]
    described = get_scopes_backend().get_all_scopes()
    for entry in apps.values():
        entry["scopes"] = sorted(str(described.get(s, s)) for s in entry["scopes"])  # type: ignore[attr-defined]
    return sorted(apps.values(), key=lambda e: str(e["application"]))


def token_introspect(token: str, *, client_id: str) -> dict[str, object]:
    """RFC 7662's answer about ``token`` for the client ``client_id``: inactive unless it
    is a live access token of that very client."""
    checksum = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
    row = (
        AccessToken.objects.select_related("application", "user")
        .filter(token_checksum=checksum, application__client_id=client_id)
        .first()
    )
    if row is None or not row.is_valid():
        return {"active": False}
    answer: dict[str, object] = {
        "active": True,
        "scope": row.scope,
        "client_id": client_id,
        "exp": int(row.expires.timestamp()),
        "token_type": "Bearer",
    }
    if row.resource:
        answer["aud"] = row.resource
    own = patient_of_user(row.user) if row.user is not None else None
    if own is not None and "launch/patient" in row.scope.split():
        answer["patient"] = str(own.pk)
    return answer


def confidential_client_authenticated(
    authorization: str, client_id: str, client_secret: str
) -> Application | None:
    """The confidential client these credentials prove (RFC 6749 §2.3.1: HTTP Basic, or
    the two form fields), or None — checked by the library's own validator, as the token
    endpoint checks them."""
    body = urlencode({"client_id": client_id, "client_secret": client_secret})
    attempt = OAuthRequest("", http_method="POST", body=body, headers={})
    if authorization:
        attempt.headers["HTTP_AUTHORIZATION"] = authorization  # how the library reads it
    if not oauth2_settings.OAUTH2_VALIDATOR_CLASS().authenticate_client(attempt):
        return None
    client: Application = attempt.client
    return client if client.client_type == Application.CLIENT_CONFIDENTIAL else None
