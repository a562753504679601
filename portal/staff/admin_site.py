"""The Django admin behind the same two factors as the workspace (docs/security.md).

Its own login form took a password alone; now the admin has no login of its own: every
way in is the workspace's two-step login (password, then a TOTP code, with enrolment on
first use, throttling and the staff lockout), which sends the user back here. A session
that gave the password only — or no session — is not an admin session.
"""

from django.contrib.admin import AdminSite
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from portal.staff.decorators import gave_second_factor


class StaffAdminSite(AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and gave_second_factor(request)

    def login(self, request: HttpRequest, extra_context: object = None) -> HttpResponse:
        index = reverse("admin:index", current_app=self.name)
        target = request.GET.get(REDIRECT_FIELD_NAME) or index
        return redirect(f"{reverse('workspace:login')}?{urlencode({'next': target})}")
