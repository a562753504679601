"""The portal as the OAuth 2.0 authorization server: consent page and consent list.

The library (django-oauth-toolkit) does the protocol; these views add what the
portal needs: the ESIA login, a token bound to this FHIR server, a Russian consent
page that names the people the app will see, and the patient's list of apps.
"""

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from oauth2_provider import views as oauth2_views
from oauth2_provider.models import Application
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import AuthorizationView

from portal.api import services
from portal.api.auth import fhir_base_url
from portal.api.queries import patients_actable_by
from portal.core.http import AuthenticatedRequest

LOGIN_URL = reverse_lazy("identity:esia_login")


@method_decorator(csrf_exempt, name="dispatch")
class IntrospectView(View):
    """RFC 7662 for a confidential client, about its own tokens only.

    The library's view answers any authenticated client about any token and names the
    user's login (here it carries the ESIA identifier); a client learns whether its own
    token is active, its scope, expiry and audience, and the patient in context."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        client = services.confidential_client_authenticated(
            request.headers.get("Authorization", ""),
            request.POST.get("client_id", ""),
            request.POST.get("client_secret", ""),
        )
        if client is None:
            answer = JsonResponse({"error": "invalid_client"}, status=401)
            answer["WWW-Authenticate"] = 'Basic realm="oauth"'
            return answer
        token = request.POST.get("token", "")
        if not token:
            return JsonResponse({"error": "invalid_request"}, status=400)
        return JsonResponse(services.token_introspect(token, client_id=client.client_id))


class TokenView(oauth2_views.TokenView):
    """The library's token endpoint in one transaction: the code's grant is locked while it
    is exchanged, so a replay racing the first exchange is seen as one (oauth_validator)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with transaction.atomic(durable=True):
            response: HttpResponse = super().post(request, *args, **kwargs)
        return response


def _form_action_source(redirect_uri: str) -> str | None:
    """The CSP source that lets the consent form's redirect reach the app."""
    parts = urlsplit(redirect_uri)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    if parts.scheme:
        return f"{parts.scheme}:"  # a mobile app's own scheme, e.g. ru.example.app:
    return None


class PatientAuthorizationView(AuthorizationView):
    """GET shows the consent page (after the ESIA login), POST answers the app."""

    template_name = "api/authorize.html"
    login_url = LOGIN_URL

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not patients_actable_by(request.user).exists():
            return render(request, "api/authorize_refused.html", status=403)
        base = fhir_base_url(request)
        query = request.GET.copy()
        # SMART App Launch names the FHIR server in `aud`; RFC 8707 in `resource`. A
        # trailing slash names the same server (SMART clients add one).
        named = query.getlist("resource") or query.getlist("aud")
        if [uri.rstrip("/") for uri in named] != [base.rstrip("/")]:
            description = f"resource (aud) must be {base}"
            return self._refusal(request, query, "invalid_target", description) or render(
                request, "api/authorize_refused.html", {"wrong_resource": base}, status=400
            )
        query.setlist("resource", [base])
        # The library would also take "plain", which leaks the verifier (RFC 9700 §2.1.1).
        if query.get("code_challenge_method", "S256") != "S256":
            description = "code_challenge_method must be S256"
            return self._refusal(request, query, "invalid_request", description) or render(
                request, "api/authorize_refused.html", {"pkce": True}, status=400
            )
        request.GET = query  # type: ignore[assignment]
        response: HttpResponse = super().get(request, *args, **kwargs)
        source = _form_action_source(request.GET.get("redirect_uri", ""))
        if source and response.status_code == 200:
            response._csp_update = {"form-action": [source]}  # type: ignore[attr-defined]
        return response

    def _refusal(
        self, request: HttpRequest, query: QueryDict, error: str, description: str
    ) -> HttpResponse | None:
        """RFC 6749 §4.1.2.1: once the client and its redirect URI are known good, an error
        goes back to the app (which can tell its user), not to a page of ours. None when
        they are not: then the user is told, and nothing is redirected."""
        app = Application.objects.filter(client_id=query.get("client_id", "")).first()
        if app is None:
            return None
        target = query.get("redirect_uri") or app.default_redirect_uri
        if not target or not app.redirect_uri_allowed(target):
            return None
        params = [("error", error), ("error_description", description)]
        if state := query.get("state"):
            params.append(("state", state))
        params.append(("iss", str(oauth2_settings.oauth2_authorization_server_issuer(request))))
        parts = urlsplit(target)
        answer = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params])
        response: HttpResponse = self.redirect(urlunsplit(parts._replace(query=answer)), app)
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context["people"] = list(patients_actable_by(self.request.user).order_by("pk"))
        return context


@login_required(login_url=LOGIN_URL)
@require_GET
def consent_list(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "api/consents.html", {"consents": services.consents_of(request.user)})


@login_required(login_url=LOGIN_URL)
@require_POST
def consent_withdraw(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    if services.consent_withdraw(user=request.user, application_id=application_id):
        messages.success(request, _("Доступ приложения отозван. Оно больше не видит ваши данные."))
    return redirect(reverse("oauth:consents"))
