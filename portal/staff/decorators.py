"""The gate of every staff page: a staff role and both factors (docs/workspace.md).

Here, below the domain, so the clinic workspace and the fair release's operator pages
share it; anyone else is sent to the workspace's two-step login, by its URL name.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from portal.core.http import AuthenticatedRequest
from portal.staff.models import StaffMember
from portal.staff.permissions import staff_member_of

View = Callable[..., HttpResponse]


class StaffRequest(AuthenticatedRequest):
    """A request that passed `staff_required`: a staff member who gave both factors."""

    staff: StaffMember


def gave_second_factor(request: HttpRequest) -> bool:
    """Whether this session confirmed a TOTP code (set by django-otp's OTPMiddleware)."""
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def staff_required(view: View) -> View:
    """Let through staff who logged in with a password *and* a TOTP code.

    Anyone not logged in (or logged in with a password only, e.g. through the admin)
    goes to the workspace login; a citizen gets a page saying where to go instead.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        login_url = reverse("workspace:login")
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url)
        member = staff_member_of(user)
        if member is None:
            return render(request, "staff/not_staff.html", status=403)
        if not gave_second_factor(request):
            return redirect_to_login(request.get_full_path(), login_url)
        request.staff = member  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper
