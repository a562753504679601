"""Authlib, a widely used OAuth client, against the live server as a confidential SMART
app: discovery, code + PKCE S256, refresh (rotation), introspection and revocation
(issue 23). Nothing here is the portal's own client code."""

from urllib.parse import urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from portal.api.services import client_register_with_secret

REDIRECT = "https://clinic-app.example/callback"

pytestmark = pytest.mark.django_db(transaction=True)


def test_authlib_runs_the_whole_token_life_cycle(live_server, client, patient):
    server = client_register_with_secret(
        name="Приложение клиники", redirect_uris=[REDIRECT], confidential=True
    )
    app_id, secret = server.application.client_id, server.secret
    metadata = requests.get(f"{live_server.url}/.well-known/oauth-authorization-server").json()
    session = OAuth2Session(
        app_id, secret, scope="patient/*.read offline_access", redirect_uri=REDIRECT,
        code_challenge_method="S256",
    )  # fmt: skip
    verifier = generate_token(48)
    url, _state = session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, aud=f"{live_server.url}/fhir"
    )

    client.force_login(patient)
    host = urlsplit(live_server.url).netloc
    parts = urlsplit(url)
    page = client.get(f"{parts.path}?{parts.query}", HTTP_HOST=host)
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    back = client.post(parts.path, {**form, "allow": "on"}, HTTP_HOST=host)["Location"]

    token = session.fetch_token(
        metadata["token_endpoint"], authorization_response=back, code_verifier=verifier
    )
    assert "offline_access" in token["scope"].split()
    fhir = f"{live_server.url}/fhir/Patient"
    assert session.get(fhir).status_code == 200

    old_refresh = token["refresh_token"]
    refreshed = session.refresh_token(metadata["token_endpoint"], refresh_token=old_refresh)
    assert refreshed["refresh_token"] != old_refresh  # rotated

    seen = session.introspect_token(metadata["introspection_endpoint"], refreshed["access_token"])
    assert seen.json()["active"] is True

    session.revoke_token(metadata["revocation_endpoint"], refreshed["access_token"])
    assert session.get(fhir).status_code == 401
    gone = session.introspect_token(metadata["introspection_endpoint"], refreshed["access_token"])
    assert gone.json() == {"active": False}
