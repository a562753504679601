"""Staff passwords cannot be brute-forced (docs/security.md, docs/domain.md, «Clinic side»).

Before: 60 wrong passwords in 23 s at the admin login, then in with the right one. The
admin has no login of its own now (its way in is the workspace's two-step login), so
these tests knock at the workspace login; django-axes works inside authenticate(), so
any password login is covered by the same rule: the last test calls authenticate() the
way any view would.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY, authenticate
from django.db.models import F
from django.test import Client, RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.workspace.conftest import current_code

pytestmark = pytest.mark.django_db

LOGIN = reverse("workspace:login")


@pytest.fixture(autouse=True)
def _axes_not_the_rate_limit(settings):
    """The lockout is under test, not the per-address rate limit in front of it."""
    settings.RATE_STAFF_LOGIN_IP = "1000/m"


def _age_attempts(by: timedelta) -> None:
    """Move the recorded failures back in time, as if ``by`` had passed."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - by)


def _try(browser: Client, username: str, password: str):
    return browser.post(LOGIN, {"username": username, "password": password, "next": "/"})


def test_sixty_wrong_passwords_lock_the_account_and_the_right_one_waits(clerk, settings):
    browser = Client()
    statuses = [_try(browser, "clerk", f"guess-{n}").status_code for n in range(60)]
    limit = settings.AXES_FAILURE_LIMIT
    assert statuses[: limit - 1] == [400] * (limit - 1)  # the form again, with its error
    assert set(statuses[limit:]) == {429}
    refused = _try(browser, "clerk", "clerk-password-1")
    assert refused.status_code == 429, "the right password is refused while locked"
    text = refused.content.decode()
    assert "Вход временно заблокирован" in text and "Повторите через 15 мин." in text
    assert int(refused["Retry-After"]) == 15 * 60
    assert SESSION_KEY not in browser.session

    # From another address the account is still locked (a distributed guess).
    elsewhere = Client(REMOTE_ADDR="198.51.100.40")
    assert _try(elsewhere, "clerk", "clerk-password-1").status_code == 429

    # Just before the cool-off ends: still locked (and that attempt starts it again).
    _age_attempts(settings.AXES_COOLOFF_TIME - timedelta(minutes=1))
    assert _try(Client(), "clerk", "clerk-password-1").status_code == 429
    # Once a whole cool-off has passed without attempts, the right password gets in.
    _age_attempts(settings.AXES_COOLOFF_TIME + timedelta(minutes=1))
    assert _try(Client(), "clerk", "clerk-password-1").status_code == 302


def test_one_address_spraying_many_usernames_is_locked_out(clerk, other_clerk, settings):
    browser = Client(REMOTE_ADDR="198.51.100.41")
    for n in range(settings.AXES_FAILURE_LIMIT):
        _try(browser, f"user-{n}", "password")
    assert _try(browser, "other-clerk", "clerk-password-2").status_code == 429
    assert _try(Client(), "other-clerk", "clerk-password-2").status_code == 302


def test_a_success_before_the_limit_resets_the_count(clerk, settings):
    """A success is the whole login: the password, then the code (here, enrolling)."""
    browser = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _try(browser, "clerk", "wrong")
    assert _try(browser, "clerk", "clerk-password-1").status_code == 302
    code_page = reverse("workspace:login_code")
    assert browser.get(code_page).status_code == 200  # the enrolment's QR code
    device = TOTPDevice.objects.get(user=clerk)
    assert browser.post(code_page, {"code": current_code(device)}).status_code == 302
    again = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _try(again, "clerk", "wrong").status_code == 400


def test_any_password_login_through_authenticate_is_covered(clerk, settings):
    """What the future workspace login will do: call authenticate() with the request."""
    request = RequestFactory().post("/workspace/login/")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert authenticate(request, username="clerk", password="wrong") is None
    assert authenticate(request, username="clerk", password="clerk-password-1") is None
    assert getattr(request, "axes_locked_out", False)
