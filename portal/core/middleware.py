import time
from collections.abc import Callable
from functools import partial
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import AuthenticationMiddleware, auser, get_user
from django.core.signals import setting_changed
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.locale import LocaleMiddleware
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django_otp.middleware import OTPMiddleware

from portal.core.typography import NUMERO, join_numero_html

TOUCH_KEY = "_touched"
LOGIN_AT_KEY = "_login_at"


class SlidingSessionMiddleware:
    """Idle expiry without a database write on every request.

    SESSION_SAVE_EVERY_REQUEST would UPDATE the session row on each hit; here a
    session is re-saved (and its expiry pushed forward) at most once per
    SESSION_TOUCH_INTERVAL seconds, so idle expiry is exact to within that interval.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            if now - session.get(TOUCH_KEY, 0) >= settings.SESSION_TOUCH_INTERVAL:
                session[TOUCH_KEY] = now
        return response


class OneLanguageLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware, the short way while the portal speaks one language.

    With one entry in LANGUAGES (the language code itself) and no language prefix in the
    URLs, Django's middleware always ends on that language, yet it parsed the cookie, the
    Accept-Language header and the path twice on every request, 45 µs (docs/performance.md,
    issue 25). This activates the language and writes the same headers (Vary:
    Accept-Language, Content-Language); a second language, or language prefixes, send
    every request through Django's code again.
    """

    def _one_language(self, request: HttpRequest) -> str | None:
        languages = settings.LANGUAGES
        if len(languages) != 1 or languages[0][0] != settings.LANGUAGE_CODE:
            return None
        urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
        if is_language_prefix_patterns_used(urlconf)[0]:
            return None
        return str(settings.LANGUAGE_CODE)

    def process_request(self, request: HttpRequest) -> None:
        language = self._one_language(request)
        if language is None:
            super().process_request(request)
            return
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if self._one_language(request) is None:
            return super().process_response(request, response)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


class UserMiddleware(AuthenticationMiddleware):
    """Django's AuthenticationMiddleware and django-otp's OTPMiddleware in one step, eager.

    The two each wrapped ``request.user`` in a lazy object, the second around the first,
    so every later look at the user (the middleware below, the decorators, the templates)
    went through two proxies; yet every request reads the user anyway
    (`AbsoluteSessionLifetimeMiddleware` asks whether it is authenticated), so the laziness
    saved nothing (docs/performance.md, issue 25). The user is read here, once, by Django's
    own ``get_user`` (the session's backend, the auth hash check, the inactive refusal:
    nothing of it is repeated here), and django-otp marks it verified or not by its own
    code, as its middleware does. ``request._cached_user`` stays Django's memo (degraded
    mode forgets it before a second pass). Nothing of the user outlives the request
    (docs/security.md).
    """

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        super().__init__(get_response)
        # Only its verification is used; it never handles a request of its own.
        self._otp = OTPMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        self.process_request(request)
        return self.get_response(request)  # type: ignore[return-value]  # sync only

    def process_request(self, request: HttpRequest) -> None:
        if not hasattr(request, "session"):
            super().process_request(request)  # Django's ImproperlyConfigured
        # django-otp's private steps, the ones its own middleware runs on the lazy user.
        otp = self._otp
        request.user = otp._verify_user_sync(request, get_user(request))
        request.auser = partial(otp._verify_user_async_via_auser, request, partial(auser, request))


class PortalNotFoundInDebugMiddleware:
    """With DEBUG on, a wrong address gets the portal's own Russian 404, not Django's.

    Django's technical 404 lists every URL pattern, the staff admin path included, and
    `make run` serves with DEBUG on (the ESIA emulator and the generated secret key need
    it). Turning DEBUG off for `make run` would also switch on HTTPS redirects and the
    production checks, so instead this renders the handler404 page: the resolver is asked
    before the view runs, and a view's Http404 is caught on its way out. DEBUG_TECHNICAL_404
    brings Django's page back for a developer who wants it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def _active(self) -> bool:
        return bool(settings.DEBUG) and not getattr(settings, "DEBUG_TECHNICAL_404", False)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._active():
            urlconf = getattr(request, "urlconf", None)
            try:
                resolve(request.path_info, urlconf)
            except Resolver404:
                return _portal_not_found(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if self._active() and isinstance(exception, Http404):
            return _portal_not_found(request)
        return None


def _portal_not_found(request: HttpRequest) -> HttpResponse:
    from portal.core.views import page_not_found

    return page_not_found(request)


class PrivateResponseMiddleware:
    """Nothing answered to a logged-in user is kept by a browser or a proxy cache.

    The rule is "every response to an authenticated request", not a list of views:
    the cabinet, personal data, appointments, the ticket, the ``.ics`` file, the journal
    and every page added later are covered without anyone remembering to decorate them.
    A shared computer's back button or a clinic's caching proxy then shows nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if "Cache-Control" in response or "Expires" in response:
                add_never_cache_headers(response)
                patch_cache_control(response, no_store=True, private=True)
            else:  # what the two calls above write, without parsing an empty header
                response["Expires"] = http_date(time.time())
                response["Cache-Control"] = NEVER_CACHE
            response["Pragma"] = "no-cache"
        return response


class NumeroJoinMiddleware:
    """Every HTML page shows «№» joined to its number (docs/accessibility.md, «Typography»).

    The rule is "every HTML response", not a filter in each template: clinic names, areas,
    tickets and referrals are drawn by some seventy templates, and a page added later is
    covered without anyone remembering it. Inside CommonMiddleware, so the Content-Length it
    sets counts the joined page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
            return response
        try:
            # One bytes search: most pages have no «№» and are returned as they are.
            if NUMERO.encode(response.charset) not in response.content:
                return response
            html = response.content.decode(response.charset)
        except (LookupError, UnicodeError):  # not text we can read: shown as it was sent
            return response
        joined = join_numero_html(html)
        if joined != html:
            response.content = joined.encode(response.charset)
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response


NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


_POLICY_SETTINGS = ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
_RESPONSE_PARTS = tuple(
    f"_csp_{part}{ro}" for part in ("config", "update", "replace", "exempt") for ro in ("", "_ro")
)
# (header, value, excluded path prefixes) of the settings' own policies, built once.
_policies: list[tuple[str, str, tuple[str, ...]]] | None = None


def _settings_policies() -> list[tuple[str, str, tuple[str, ...]]]:
    global _policies
    if _policies is None:
        built = []
        for header, name, report_only in (
            (HEADER, _POLICY_SETTINGS[0], False),
            (HEADER_REPORT_ONLY, _POLICY_SETTINGS[1], True),
        ):
            value = build_policy(report_only=report_only)
            prefixes = (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
            if value:
                built.append((header, value, tuple(prefixes)))
        _policies = built
    return _policies


def _policies_forget(*, setting: str, **kwargs: Any) -> None:
    global _policies
    if setting in _POLICY_SETTINGS or setting == "DEBUG":
        _policies = None


setting_changed.connect(_policies_forget)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the settings' policy built once per process.

    Every response but a few forms (OAuth, the ESIA emulator: ``_csp_update``) carries
    the same header, yet django-csp built it anew for each, 50 µs of every request
    (docs/performance.md, issue 25). A response or request that changes anything of the
    policy (its own config, update, replace, exemption, a nonce used) goes through
    django-csp unchanged.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, part) for part in _RESPONSE_PARTS)
            or HEADER in response
            or HEADER_REPORT_ONLY in response
            or (settings.DEBUG and response.status_code in (404, 500))
        ):
            return super().process_response(request, response)
        for header, value, prefixes in _settings_policies():
            if not request.path_info.startswith(prefixes):
                response[header] = value
        # As django-csp: a nonce asked for after the header was written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response


def login_time_record(sender: object, request: HttpRequest, **kwargs: object) -> None:
    """``user_logged_in`` receiver: the moment the absolute lifetime counts from."""
    if getattr(request, "session", None) is not None:
        request.session[LOGIN_AT_KEY] = int(time.time())


class AbsoluteSessionLifetimeMiddleware:
    """A session ends SESSION_ABSOLUTE_SECONDS after the login, however active.

    The idle expiry (SlidingSessionMiddleware) never ends a session that is used
    every few minutes; a stolen session cookie kept alive by a script would then live
    for ever. A session from before this rule gets its clock started now.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            started = request.session.get(LOGIN_AT_KEY)
            if not isinstance(started, int):
                request.session[LOGIN_AT_KEY] = now
            elif now - started >= settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                messages.info(
                    request,
                    _("С момента входа прошло больше %(hours)s ч: войдите снова, пожалуйста.")
                    % {"hours": settings.SESSION_ABSOLUTE_SECONDS // 3600},
                )
        return self.get_response(request)


SESSION_MARKER_COOKIE = "portal_signed_in"


class ExpiredSessionNoticeMiddleware:
    """Says so when a session ended while the browser was away (issue 27: it said nothing).

    The idle expiry ends the server's session and the browser's cookie at the same moment,
    so a returning visitor simply looks anonymous. A second, longer-lived cookie remembers
    that this browser was signed in: a request with that marker and no session cookie at
    all comes from a session that expired, and hears it once. Any request that ends a
    session while carrying its cookie (logout, the absolute lifetime) drops the marker, so
    those say only what they say themselves. The marker holds no identity: just "1".
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        had_session = settings.SESSION_COOKIE_NAME in request.COOKIES
        marked = request.COOKIES.get(SESSION_MARKER_COOKIE) == "1"
        if marked and not had_session and not request.user.is_authenticated:
            messages.info(
                request,
                _("Сеанс завершился: вы долго не пользовались порталом. Войдите снова."),
            )
        response = self.get_response(request)
        if request.user.is_authenticated:
            if not marked:
                response.set_cookie(
                    SESSION_MARKER_COOKIE,
                    "1",
                    max_age=settings.SESSION_ABSOLUTE_SECONDS,
                    secure=settings.SESSION_COOKIE_SECURE,
                    httponly=True,
                    samesite="Lax",
                )
        elif marked:
            response.delete_cookie(SESSION_MARKER_COOKIE, samesite="Lax")
        return response
