import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.audit.devices import request_device
from portal.audit.models import AuditAction
from portal.audit.services import audit_record
from portal.core.http import client_ip
from portal.core.ratelimits import rate_limited
from portal.identity import esia
from portal.identity.backends import SESSION_BACKEND
from portal.identity.esia import EsiaError
from portal.identity.login_slots import esia_login_slot
from portal.identity.services import Level, citizen_data, citizen_login, esia_account_level
from portal.patients.models import age_on
from portal.patients.selectors import children_acted_for, guardian_notices_count, own_patient

logger = logging.getLogger(__name__)

STATES_SESSION_KEY = "esia_login_states"
MAX_PENDING_STATES = 5  # a few tabs may start a login at once; older ones are dropped

# User-facing texts of every way a login can fail, in one table.
ERROR_MESSAGES = {
    "unavailable": _(
        "Госуслуги (ЕСИА) сейчас не отвечают. Попробуйте войти через несколько минут."
    ),
    "rejected": _("Госуслуги отклонили запрос на вход. Попробуйте войти ещё раз."),
    "token": _("Не удалось проверить ответ Госуслуг. Попробуйте войти ещё раз."),
    "signer": _(
        "Вход через Госуслуги временно недоступен по техническим причинам. Попробуйте позже."
    ),
    "data": _(
        "Госуслуги передали неполные данные учётной записи (ФИО, дата рождения или пол). "
        "Проверьте личные данные в профиле на Госуслугах и попробуйте снова."
    ),
    "busy": _(
        "Госуслуги сейчас отвечают медленно, и много людей входят одновременно. "
        "Обновите страницу через несколько секунд или войдите ещё раз."
    ),
    "state": _(
        "Ссылка для входа устарела или уже была использована. Начните вход заново "
        "кнопкой «Войти через ЕСИА»."
    ),
    "ESIA-007008": _("Госуслуги на техническом обслуживании. Попробуйте войти позже."),
    "ESIA-007011": _("Код входа устарел или уже был использован. Начните вход заново."),
}
ERROR_STATUS = {"unavailable": 503, "signer": 503, "busy": 503, "state": 400}


@require_GET
def cabinet(request: HttpRequest) -> HttpResponse:
    """«Личный кабинет»: the login choice (Рис. 2) for visitors, the cabinet (Рис. 4) for users."""
    if not request.user.is_authenticated:
        return render(request, "identity/login.html")
    own = own_patient(request)
    # Newcomers to the user's children: none to count for a user without children.
    notices = guardian_notices_count(own) if own and children_acted_for(request.user, own) else 0
    return render(request, "identity/cabinet.html", {"guardian_notices": notices})


def _safe_next(request: HttpRequest) -> str:
    target = request.GET.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@never_cache
@require_GET
@rate_limited("login_start_ip", methods=("GET",))
def esia_login(request: HttpRequest) -> HttpResponse:
    """Send the browser to ESIA's authorization page with a fresh single-use state."""
    state, nonce = esia.new_state(), esia.new_nonce()
    try:
        url = esia.authorization_url(state, nonce)
    except EsiaError as error:
        return _error_page(request, error)
    pending = dict(request.session.get(STATES_SESSION_KEY, {}))
    pending[state] = {"next": _safe_next(request), "nonce": nonce}
    request.session[STATES_SESSION_KEY] = dict(list(pending.items())[-MAX_PENDING_STATES:])
    return HttpResponseRedirect(url)


def _error_page(request: HttpRequest, error: EsiaError) -> HttpResponse:
    message = ERROR_MESSAGES.get(error.code) or ERROR_MESSAGES[error.kind]
    # The code may come from the query string (the callback's error_description).
    logger.info("ESIA login failed: %s %r %r", error.kind, error.code, error.detail)
    status = ERROR_STATUS.get(error.kind, 502)
    response = render(request, "identity/esia_error.html", {"message": message}, status=status)
    if status == 503:
        response["Retry-After"] = str(settings.ESIA_RETRY_AFTER_SECONDS)
    return response


def _state_take(request: HttpRequest) -> tuple[str, str] | None:
    """(`next`, nonce) bound to this state in this browser, removing it (single use)."""
    pending = dict(request.session.get(STATES_SESSION_KEY, {}))
    state = request.GET.get("state", "")
    if state not in pending:
        return None
    bound = pending.pop(state)
    request.session[STATES_SESSION_KEY] = pending
    if not isinstance(bound, dict):  # a login started before nonces existed
        return str(bound), ""
    return str(bound.get("next", "")), str(bound.get("nonce", ""))


REFUSAL_REASONS = ("underage", "not_confirmed")
REFUSAL_LEVELS = ("confirmed", "standard", "simplified", "child", "unknown")


def _refused(request: HttpRequest, reason: str, level: str) -> HttpResponse:
    """Record the refusal once, then send the browser to a page of its own: the callback's
    URL carries a single-use code, and a reload there would end on a generic error."""
    audit_record(
        AuditAction.LOGIN_REFUSED,
        actor=None,
        ip=client_ip(request),
        reason=reason,
        level=level,
        device=request_device(request),
    )
    url = reverse("identity:login_refused", args=[reason])
    return HttpResponseRedirect(f"{url}?level={level}")


@never_cache
@require_GET
def login_refused(request: HttpRequest, reason: str) -> HttpResponse:
    """Why ESIA's login was not accepted: the same page however often it is reloaded."""
    if reason not in REFUSAL_REASONS:
        return redirect("identity:cabinet")
    level = request.GET.get("level", "")
    template = (
        "identity/refused_underage.html"
        if reason == "underage"
        else "identity/refused_not_confirmed.html"
    )
    context = {
        "level": level if level in REFUSAL_LEVELS else "unknown",
        "min_age": settings.ESIA_MIN_AGE,
    }
    return render(request, template, context, status=403)


@never_cache
@require_GET
@rate_limited("login_callback_ip", methods=("GET",))
def esia_callback(request: HttpRequest) -> HttpResponse:
    """ESIA sends the browser back here with `code` and `state` (or an error)."""
    # Before the state is spent: a login turned away here can simply be reloaded.
    with esia_login_slot() as admitted:
        if not admitted:
            return _error_page(request, EsiaError("busy"))
        return _callback_in_slot(request)


def _callback_in_slot(request: HttpRequest) -> HttpResponse:
    bound = _state_take(request)
    if bound is None:
        return _error_page(request, EsiaError("state"))
    target, nonce = bound
    error = request.GET.get("error")
    if error:
        code = request.GET.get("error_description", "").split(":", 1)[0].strip()
        if error == "access_denied" or code == "ESIA-007004":
            messages.info(request, _("Вход через Госуслуги отменён."))
            return redirect("identity:cabinet")
        if code == "ESIA-007055":
            return _refused(request, "not_confirmed", "unknown")
        # Both come from the query string: %r escapes line breaks that would forge log lines.
        logger.warning("ESIA returned an error: %r %r", error[:40], code[:20])
        return _error_page(request, EsiaError("rejected", code if code.startswith("ESIA-") else ""))
    # One deadline for every ESIA call of this login, well under gunicorn's worker
    # timeout: a slow ESIA costs a worker seconds, never the worker (docs/security.md).
    deadline = esia.login_deadline()
    try:
        tokens = esia.tokens_exchange(request.GET.get("code", ""), deadline)
        claims = esia.id_token_verify(tokens["id_token"], nonce=nonce)
        oid = str(claims.get("sub") or claims["urn:esia:sbj"]["urn:esia:sbj:oid"])
        person = esia.person_fetch(oid, claims, str(tokens.get("access_token", "")), deadline)
        level = esia_account_level(person)
        if level == Level.CHILD:
            return _refused(request, "underage", level)
        if level != Level.CONFIRMED:
            return _refused(request, "not_confirmed", level)
        data = citizen_data(person)
    except EsiaError as failure:
        return _error_page(request, failure)
    if age_on(data.birth_date, timezone.localdate()) < settings.ESIA_MIN_AGE:
        return _refused(request, "underage", level)
    user = citizen_login(
        oid=person.oid, data=data, ip=client_ip(request), device=request_device(request)
    )
    login(request, user, backend=SESSION_BACKEND)
    return HttpResponseRedirect(target or reverse("identity:cabinet"))


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """End the portal session, then ESIA's own (else «Войти» would log straight back in)."""
    was_citizen = request.user.is_authenticated and getattr(request.user, "is_citizen", False)
    if request.user.is_authenticated:
        audit_record(
            AuditAction.LOGOUT,
            actor=request.user,
            ip=client_ip(request),
            device=request_device(request),
        )
    was_logged_in = request.user.is_authenticated
    auth_logout(request)
    if was_logged_in:
        # Kept in the new, empty session until the next page: ESIA's logout sends the
        # browser back to the home page, which then says so (issue 27: it said nothing).
        messages.info(request, _("Вы вышли из личного кабинета."))
    if was_citizen:
        return HttpResponseRedirect(esia.logout_url())
    return redirect("core:home")
