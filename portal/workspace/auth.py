"""The two steps of a staff login: a password, then a TOTP code (docs/workspace.md).

After the password the session holds only a *pending* login (the user's id, the
authentication backend and when): nothing is logged in until the second factor is
given. A staff member without a confirmed TOTP device enrols one at that step.
"""

import math
import time
from dataclasses import dataclass

import segno
from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.audit.models import AuditAction
from portal.audit.services import audit_record
from portal.core.http import client_ip
from portal.identity.models import User
from portal.staff.permissions import staff_login_allowed

PENDING_KEY = "workspace_pending_login"
DEVICE_NAME = "workspace"


@dataclass(frozen=True)
class PendingLogin:
    user: User
    backend: str


def pending_start(request: HttpRequest, user: User) -> None:
    """Remember that ``user`` gave the right password; a new session key against fixation."""
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[0]),
        "at": int(time.time()),
    }


def pending_get(request: HttpRequest) -> PendingLogin | None:
    """The pending login if it is fresh and still belongs to an active staff member."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    if time.time() - data.get("at", 0) > settings.WORKSPACE_PENDING_LOGIN_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    user_id = data.get("user")
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(pk=user_id).first()
    if user is None or not staff_login_allowed(user):
        return None
    return PendingLogin(user=user, backend=str(data.get("backend")))


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def enrolment_device(user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled: the same secret until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=DEVICE_NAME).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def otpauth_qr_svg(device: TOTPDevice) -> str:
    """The otpauth URI as an inline SVG QR code (no style attributes: the CSP forbids them)."""
    return str(segno.make(device.config_url, error="m").svg_inline(scale=4, border=2))


def code_wait_seconds(device: TOTPDevice) -> int:
    """Seconds until django-otp lets this device check a code again after wrong ones
    (0: a code may be tried now); its delays double with each failure."""
    allowed, data = device.verify_is_allowed()
    if allowed or not data or data.get("locked_until") is None:
        return 0
    left: float = (data["locked_until"] - timezone.now()).total_seconds()
    return max(1, math.ceil(left))


def code_accept(request: HttpRequest, pending: PendingLogin, device: TOTPDevice, code: str) -> bool:
    """Check the code (django-otp throttles guesses and refuses a reused one); log in if right."""
    if not device.verify_token(code.strip().replace(" ", "")):
        return False
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    request.session.pop(PENDING_KEY, None)
    login(request, pending.user, backend=pending.backend)
    otp_login(request, device)
    audit_record(AuditAction.STAFF_LOGIN, actor=pending.user, ip=client_ip(request))
    return True
