"""Rate limits of the actions bots and guessers would hammer (docs/security.md).

A thin layer over django-ratelimit: every limit is named, its rate is a setting read
at request time (so an operator can tune it and tests can shrink it), and a refused
request remembers how many seconds are left in the window, so the 429 page and the
``Retry-After`` header say when to come back.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_ratelimit.core import get_usage
from django_ratelimit.exceptions import Ratelimited

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
}


def _rate_of(setting: str) -> Callable[[str, HttpRequest], str]:
    return lambda group, request: getattr(settings, setting)


def rate_limited(*names: str, methods: tuple[str, ...] = ("POST",)) -> Callable[[View], View]:
    """Refuse the view with 429 once any of the named limits is used up.

    Only ``methods`` count: showing a form is free, submitting it is not. Every
    named counter is incremented on every counted request, so the per-IP limit
    also sees the requests of users who have not hit their own limit yet.
    """
    for name in names:
        if name not in LIMITS:
            raise KeyError(f"unknown rate limit {name!r}")

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            retry_after = 0
            for name in names:
                setting, key = LIMITS[name]
                usage = get_usage(
                    request,
                    group=name,
                    key=key,
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
