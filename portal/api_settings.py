"""The FHIR API's and the OAuth 2.0 server's settings for portal/settings.py."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from portal.env import env_int, env_list

# CORS (django-cors-headers) for the API's paths only, and only for the origins of
# registered apps' redirect URIs (portal/api/cors.py answers the library's signal).
API_CORS_URLS_REGEX = r"^/(fhir/|oauth/(token|revoke_token|introspect)/|\.well-known/)"
API_CORS_ALLOW_HEADERS = ["authorization", "content-type", "if-match", "prefer", "x-request-id"]
API_CORS_EXPOSE_HEADERS = ["etag", "location", "retry-after"]


def oauth2_provider_settings(*, debug: bool) -> dict[str, Any]:
    """django-oauth-toolkit's OAUTH2_PROVIDER (docs/api.md, «OAuth 2.0»)."""
    return {
        "SCOPES": {
            "patient/Patient.r": _(
                "видеть ваши данные и данные ваших детей (ФИО, дата рождения, полис)"
            ),
            "patient/Appointment.rs": _("видеть ваши записи к врачу и записи ваших детей"),
            "patient/Appointment.cu": _("записывать вас и ваших детей к врачу и отменять записи"),
            "patient/ServiceRequest.rs": _("видеть ваши направления к врачам и направления детей"),
            "launch/patient": _("знать, чья карта открыта в приложении (ваша)"),
            "offline_access": _("оставаться подключённым, пока вы не отзовёте доступ"),
            # Home visits (docs/home-visits.md).
            "patient/Task.crs": _("вызывать врача на дом вам и вашим детям и видеть эти вызовы"),
        },
        "DEFAULT_SCOPES": ["patient/Patient.r"],
        # Authorization code and refresh only: no password grant (it checked staff passwords
        # without a second factor and spent their lockout), no client credentials.
        "OAUTH2_SERVER_CLASS": "oauthlib.oauth2.WebApplicationServer",
        # A reused authorization code revokes what it issued (RFC 6749 §4.1.2; docs/api.md).
        "OAUTH2_VALIDATOR_CLASS": "portal.api.oauth_validator.PortalOAuth2Validator",
        "PKCE_REQUIRED": True,
        "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,  # S256 only, never "plain"
        "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
        "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
        "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,  # RFC 9207 `iss` on the redirect
        "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,  # tokens kept only as hashes
        "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("API_ACCESS_TOKEN_SECONDS", 600),
        "REFRESH_TOKEN_EXPIRE_SECONDS": env_int("API_REFRESH_TOKEN_SECONDS", 30 * 86400),
        "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
        "ROTATE_REFRESH_TOKEN": True,
        "REFRESH_TOKEN_REUSE_PROTECTION": True,
        # A consent already given (a live token with the same scopes) is not asked again.
        "REQUEST_APPROVAL_PROMPT": "auto",
        # Mobile apps come back on their own URI scheme (RFC 8252), e.g. ru.example.app:/cb.
        "ALLOWED_REDIRECT_URI_SCHEMES": env_list(
            "API_REDIRECT_URI_SCHEMES", ["https", "http"] if debug else ["https"]
        ),
    }
