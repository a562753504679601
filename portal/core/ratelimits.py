"""Rate limits of the actions bots and guessers would hammer (docs/security.md).

A thin layer over django-ratelimit: every limit is named, its rate is a setting read
at request time (so an operator can tune it and tests can shrink it), and a refused
request remembers how many seconds are left in the window, so the 429 page and the
``Retry-After`` header say when to come back.
"""

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django_ratelimit.core import ALL, get_usage
from django_ratelimit.exceptions import Ratelimited

from portal.core.http import client_ip

View = Callable[..., HttpResponse]

# Limit name -> (setting holding the rate, what the counter is keyed by).
# "user" falls back to the IP for anonymous requests (django-ratelimit's rule).
LIMITS: dict[str, tuple[str, str]] = {
    "login_start_ip": ("RATE_LOGIN_START_IP", "ip"),
    "login_callback_ip": ("RATE_LOGIN_CALLBACK_IP", "ip"),
    "booking_user": ("RATE_BOOKING_USER", "user"),
    "booking_ip": ("RATE_BOOKING_IP", "ip"),
    "cancel_user": ("RATE_CANCEL_USER", "user"),
    "cancel_ip": ("RATE_CANCEL_IP", "ip"),
    "relative_user": ("RATE_RELATIVE_USER", "user"),
    "staff_login_ip": ("RATE_STAFF_LOGIN_IP", "ip"),
    # Refused look-ups of a patient (a guessed id in a switch or a journal URL).
    "refusal_user": ("RATE_REFUSAL_USER", "user"),
    "refusal_ip": ("RATE_REFUSAL_IP", "ip"),
    # A clerk's searches of the registry of insured persons (booking by phone).
    "registry_search_user": ("RATE_REGISTRY_SEARCH_USER", "user"),
    # The FHIR API counts per access token (docs/api.md).
    "api_token": ("RATE_API_TOKEN", "portal.api.auth.ratelimit_key"),
    "api_token_write": ("RATE_API_TOKEN_WRITE", "portal.api.auth.ratelimit_key"),
}


def _rate_of(setting: str) -> Callable[[str, HttpRequest], str]:
    return lambda group, request: getattr(settings, setting)


def ip_key(group: str, request: HttpRequest) -> str:
    """The client's address as ``client_ip`` sees it (the proxy's header when behind one)."""
    return client_ip(request) or ""


def user_key(group: str, request: HttpRequest) -> str:
    """The account; a visitor without one counts by address."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{ip_key(group, request)}"


KEYS: dict[str, Callable[[str, HttpRequest], str]] = {"ip": ip_key, "user": user_key}


def rate_limited(
    *names: str,
    methods: tuple[str, ...] = ("POST",),
    free_when: Callable[..., bool] | None = None,
) -> Callable[[View], View]:
    """Refuse the view with 429 once any of the named limits is used up.

    Only ``methods`` count: showing a form is free, submitting it is not. Every
    named counter is incremented on every counted request, so the per-IP limit
    also sees the requests of users who have not hit their own limit yet.
    ``free_when(request, *args, **kwargs)`` names requests that cost nothing and are
    neither counted nor limited (a booking of a slot not open yet, refused cheaply).
    """
    for name in names:
        if name not in LIMITS:
            raise KeyError(f"unknown rate limit {name!r}")

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if free_when is not None and free_when(request, *args, **kwargs):
                return view(request, *args, **kwargs)
            retry_after = 0
            for name in names:
                setting, key = LIMITS[name]
                usage = get_usage(
                    request,
                    group=name,
                    # A dotted path (the API's per-token key) is resolved by django-ratelimit.
                    key=KEYS.get(key, key),
                    rate=_rate_of(setting),
                    method=list(methods),
                    increment=True,
                )
                if usage is not None and usage["should_limit"]:
                    retry_after = max(retry_after, int(usage["time_left"]) or 1)
            if retry_after:
                request.ratelimit_retry_after = retry_after  # type: ignore[attr-defined]
                raise Ratelimited()
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


REFUSAL_LIMITS = ("refusal_user", "refusal_ip")


def _refusal_usage(request: HttpRequest, *, increment: bool) -> int:
    """Seconds to wait if any refusal budget is used up (0 if none is)."""
    retry_after = 0
    for name in REFUSAL_LIMITS:
        setting, key = LIMITS[name]
        usage = get_usage(
            request, group=name, key=KEYS[key], rate=_rate_of(setting), method=ALL,
            increment=increment,
        )  # fmt: skip
        # Counting only refusals, checked before the look-up: a budget of N allows N.
        if usage is not None and usage["count"] >= usage["limit"] > 0:
            retry_after = max(retry_after, int(usage["time_left"]) or 1)
    return retry_after


@contextmanager
def refusals_limited(request: HttpRequest) -> Iterator[None]:
    """Wrap a look-up that answers 404 to someone else's id; only the 404s count.

    Guessing ids costs nothing but a 404 and a row in the victim's journal, so once
    a user (or an address) has been refused RATE_REFUSAL_USER (RATE_REFUSAL_IP) times,
    the next attempt gets the 429 page before anything is looked up. Legitimate use
    is never refused, however much of it there is.
    """
    retry_after = _refusal_usage(request, increment=False)
    if retry_after:
        request.ratelimit_retry_after = retry_after  # type: ignore[attr-defined]
        raise Ratelimited()
    try:
        yield
    except Http404:
        _refusal_usage(request, increment=True)
        raise


def _usage(
    request: HttpRequest, name: str, *, increment: bool, methods: tuple[str, ...] = ("POST",)
) -> dict[str, Any] | None:
    setting, key = LIMITS[name]
    usage: dict[str, Any] | None = get_usage(
        request,
        group=name,
        key=KEYS.get(key, key),
        rate=_rate_of(setting),
        method=list(methods),
        increment=increment,
    )
    return usage


def failures_limited(name: str, methods: tuple[str, ...] = ("POST",)) -> Callable[[View], View]:
    """Refuse the view with 429 once ``name`` is used up, without counting the request:
    the view counts only what deserves it (`failure_count`), e.g. a failed registry
    match, never a form the patient simply got wrong."""
    if name not in LIMITS:
        raise KeyError(f"unknown rate limit {name!r}")

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            usage = _usage(request, name, increment=False, methods=methods)
            # Not counted yet: the budget is spent when the failures reach the limit.
            if usage is not None and usage["count"] >= usage["limit"]:
                request.ratelimit_retry_after = int(usage["time_left"]) or 1  # type: ignore[attr-defined]
                raise Ratelimited()
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def failure_count(request: HttpRequest, name: str, methods: tuple[str, ...] = ("POST",)) -> None:
    """Count one attempt against ``name`` (see `failures_limited`)."""
    _usage(request, name, increment=True, methods=methods)


@dataclass(frozen=True)
class Budget:
    """What a failures budget still allows (see `failures_left`)."""

    left: int
    limit: int
    seconds: int  # until the window starts again


def failures_left(request: HttpRequest, name: str) -> Budget | None:
    """How many counted failures ``name`` still allows, without counting: a form warns
    before the lockout (issue 27). None when the limit is off."""
    # The budget is counted on POST (its cache key names the methods); a GET page reads
    # the same count through a copy of the request that says POST.
    probe = copy.copy(request)
    probe.method = "POST"
    usage = _usage(probe, name, increment=False)
    if usage is None:
        return None
    limit = int(usage["limit"])
    return Budget(max(0, limit - int(usage["count"])), limit, int(usage["time_left"]) or 1)
