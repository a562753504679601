"""Where a workspace form sends the clerk back to: the page the button was on."""

from django.utils.http import url_has_allowed_host_and_scheme

from portal.staff.decorators import StaffRequest


def workspace_next(request: StaffRequest) -> str | None:
    """The posted ``next``, if it is a workspace page of this site (never another host)."""
    target = request.POST.get("next", "")
    if not target.startswith("/workspace/"):
        return None
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return None
    return target
