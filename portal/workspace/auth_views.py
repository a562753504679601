"""The staff login: its own page, a password and a TOTP code; never ESIA."""

import base64

from django.contrib import messages
from django.contrib.auth import authenticate, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from portal.core.ratelimits import rate_limited
from portal.identity.models import User
from portal.staff.decorators import gave_second_factor
from portal.staff.permissions import staff_login_allowed, staff_member_of
from portal.workspace import auth
from portal.workspace.forms import StaffLoginForm, TotpCodeForm

NEXT_KEY = "workspace_next"

WRONG_CREDENTIALS = _(
    "Неверное имя пользователя или пароль. Проверьте раскладку клавиатуры и Caps Lock. "
    "Если не помните пароль, обратитесь к региональному оператору портала. Вход для "
    "пациентов — через Госуслуги в личном кабинете."
)


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return "workspace:home"


@rate_limited("staff_login_ip")
def login_view(request: HttpRequest) -> HttpResponse:
    if staff_member_of(request.user) is not None and gave_second_factor(request):
        return redirect("workspace:home")
    form = StaffLoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        # Through authenticate() so every authentication backend's lockout covers staff.
        user = authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        if isinstance(user, User) and staff_login_allowed(user):
            next_url = request.GET.get("next")
            auth.pending_start(request, user)
            request.session[NEXT_KEY] = next_url or ""
            return redirect("workspace:login_code")
        form.add_error(None, WRONG_CREDENTIALS)
    status = 400 if form.errors else 200
    return render(request, "workspace/login.html", {"form": form}, status=status)


@rate_limited("staff_login_ip")
def login_code_view(request: HttpRequest) -> HttpResponse:
    pending = auth.pending_get(request)
    if pending is None:
        messages.error(
            request,
            _("Время на ввод кода истекло или вход не начат. Введите имя пользователя и пароль."),
        )
        return redirect("workspace:login")
    device = auth.confirmed_device(pending.user)
    enrolling = device is None
    if device is None:
        device = auth.enrolment_device(pending.user)
    form = TotpCodeForm(request.POST if request.method == "POST" else None)
    wait = auth.code_wait_seconds(device) if request.method == "POST" else 0
    if wait and form.is_valid():
        form.add_error("code", _code_wait_message(wait))
    elif request.method == "POST" and form.is_valid():
        if auth.code_accept(request, pending, device, form.cleaned_data["code"]):
            return redirect(_safe_next(request, request.session.pop(NEXT_KEY, "")))
        form.add_error(
            "code",
            _(
                "Код не подошёл. Введите код, который приложение показывает сейчас (он "
                "меняется каждые 30 секунд), и проверьте время на телефоне. После нескольких "
                "ошибок ввод временно блокируется."
            ),
        )
    context = {"form": form, "enrolling": enrolling}
    if enrolling:
        context |= {
            "otpauth_uri": device.config_url,
            "qr_svg": auth.otpauth_qr_svg(device),
            "secret_b32": _base32(device.bin_key),
        }
    status = 400 if form.errors else 200
    return render(request, "workspace/login_code.html", context, status=status)


def _code_wait_message(seconds: int) -> str:
    return ngettext(
        "Слишком много неверных кодов подряд. Подождите %(n)d секунду и введите код, "
        "который приложение покажет тогда.",
        "Слишком много неверных кодов подряд. Подождите %(n)d секунд и введите код, "
        "который приложение покажет тогда.",
        seconds,
    ) % {"n": seconds}


def _base32(key: bytes) -> str:
    text = base64.b32encode(key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("Вы вышли из рабочего места."))
    return redirect("workspace:login")
