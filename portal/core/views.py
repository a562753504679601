import datetime
import math
import sys
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from portal.core import accessibility, dbrouter
from portal.core.outage import DATABASE_DOWN, database_unavailable_response


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


def _replica_answers() -> bool:
    if not dbrouter.replica_configured():
        return False
    try:
        with connections[dbrouter.REPLICA].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # a dead replica is just "no"
        return False
    return True


def _cache_state() -> str:
    available = getattr(cache, "available", None)
    return "ok" if available is None or available() else "unavailable"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: 200 while the database answers.

    The primary not answering is a 503 within seconds (`core.postgresql`), unless a
    replica answers: read-only pages are then served from it (`core.degraded`), so the
    node stays in the balancer with "degraded" (docs/operations.md, «Degraded mode»).

    A Redis outage is reported ("degraded", cache "unavailable") but stays a 200: the
    portal serves every page without it (docs/security.md, "Redis down"), and a shared
    Redis failing must not make the load balancer drop every app server at once.
    """
    cache_state = _cache_state()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not healthy"
        state = {"database": type(exc).__name__, "cache": cache_state}
        if _replica_answers():
            # Read-only pages answer from the replica (core.degraded): keep the node in
            # the balancer, as with Redis down, and say "degraded" for the alert.
            return JsonResponse({"status": "degraded", **state, "replica": "ok"})
        return JsonResponse({"status": "error", **state}, status=503)
    status = "ok" if cache_state == "ok" else "degraded"
    return JsonResponse({"status": status, "database": "ok", "cache": cache_state})


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # A dead database outside a view (session save, middleware) lands here, not in
    # DatabaseUnavailableMiddleware: it still deserves "try again", not "error".
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        return database_unavailable_response(request.path)
    # Rendered without the request: its context processors read the session and the
    # database, and either may be what failed (a crashing 500 page is gunicorn's
    # English one).
    return HttpResponse(render_to_string("500.html"), status=500)


def too_many_requests(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """django-ratelimit's view: a 429 that says when to come back (portal.core.ratelimits)."""
    seconds = int(getattr(request, "ratelimit_retry_after", 60))
    context = {
        "retry_minutes": math.ceil(seconds / 60),
        "retry_at": timezone.localtime() + datetime.timedelta(seconds=seconds),
    }
    response = render(request, "429.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent from an expired or foreign page: say how to resend it."""
    return render(request, "403_csrf.html", status=403)


@require_http_methods(["GET", "POST"])
def accessibility_settings(request: HttpRequest) -> HttpResponse:
    """«Версия для слабовидящих»: the settings panel (GET) and saving the choices (POST).

    Plain forms and a redirect back, so it works without JavaScript; the choices go
    into a cookie (portal.core.accessibility), which works logged out too.
    """
    back = accessibility.safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "POST":
        if request.POST.get("action") == "off":
            choices = accessibility.AccessibilityChoices()
        else:
            # The panel's buttons send one value on top of the hidden current ones: the last wins.
            values = {name: request.POST.getlist(name)[-1] for name in request.POST}
            choices = accessibility.choices_from_values(values)
        response = redirect(back)
        accessibility.remember(response, choices)
        return response
    current = accessibility.choices_of(request)
    return render(
        request,
        "core/accessibility.html",
        {"back": back, "groups": accessibility.option_groups(current)},
    )


def staff_locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """django-axes' lockout answer (AXES_LOCKOUT_CALLABLE): Russian, with Retry-After."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "retry_minutes": math.ceil(seconds / 60),
        "retry_at": timezone.localtime() + datetime.timedelta(seconds=seconds),
    }
    response = render(request, "429_lockout.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response
