"""Staff log in on their own page with a password and a TOTP code, never through ESIA."""

import pytest
from django.contrib.auth.signals import user_login_failed
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.audit.models import AuditAction, AuditEvent
from tests.workspace.conftest import current_code

LOGIN = "/workspace/login/"
CODE = "/workspace/login/code/"


def _password_step(browser: Client, username: str, password: str):
    return browser.post(LOGIN, {"username": username, "password": password})


@pytest.mark.django_db
def test_staff_passwords_are_hashed_with_argon2(clerk):
    assert clerk.password.startswith("argon2$")


@pytest.mark.django_db
def test_first_login_enrols_a_totp_device_then_lets_the_clerk_in(clerk):
    browser = Client()
    response = _password_step(browser, "clerk", "clerk-password-1")
    assert response.status_code == 302 and response["Location"] == CODE
    # The password alone opens nothing.
    assert browser.get("/workspace/").status_code == 302

    page = browser.get(CODE)
    text = page.content.decode()
    assert "Подключите приложение-аутентификатор" in text
    assert "otpauth://totp/" in text and "<svg" in text
    device = TOTPDevice.objects.get(user=clerk)
    assert not device.confirmed

    response = browser.post(CODE, {"code": current_code(device)})
    assert response.status_code == 302 and response["Location"] == reverse("workspace:home")
    device.refresh_from_db()
    assert device.confirmed
    assert browser.get("/workspace/").status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.STAFF_LOGIN, user=clerk).exists()


@pytest.mark.django_db
def test_an_enrolled_clerk_is_asked_for_the_code_and_not_shown_the_secret(clerk):
    device = TOTPDevice.objects.create(user=clerk, name="workspace", confirmed=True)
    browser = Client()
    _password_step(browser, "clerk", "clerk-password-1")
    page = browser.get(CODE).content.decode()
    assert "Код подтверждения входа" in page and "otpauth://" not in page
    assert browser.post(CODE, {"code": current_code(device)}).status_code == 302
    assert browser.get("/workspace/").status_code == 200


@pytest.mark.django_db
def test_a_wrong_code_is_refused_with_what_to_do(clerk):
    device = TOTPDevice.objects.create(user=clerk, name="workspace", confirmed=True)
    browser = Client()
    _password_step(browser, "clerk", "clerk-password-1")
    wrong = f"{(int(current_code(device)) + 1) % 1000000:06d}"
    response = browser.post(CODE, {"code": wrong})
    assert response.status_code == 400
    assert "Код не подошёл" in response.content.decode()
    assert browser.get("/workspace/").status_code == 302


@pytest.mark.django_db
def test_a_code_cannot_be_used_twice(clerk):
    device = TOTPDevice.objects.create(user=clerk, name="workspace", confirmed=True)
    code = current_code(device)
    first = Client()
    _password_step(first, "clerk", "clerk-password-1")
    assert first.post(CODE, {"code": code}).status_code == 302
    second = Client()
    _password_step(second, "clerk", "clerk-password-1")
    assert second.post(CODE, {"code": code}).status_code == 400


@pytest.mark.django_db
def test_a_wrong_password_is_refused_through_authenticate(clerk):
    failures = []

    def record(sender, credentials, **kwargs):
        failures.append(credentials["username"])

    # The lockout of repeated failures hooks into authenticate(); its signal proves we use it.
    user_login_failed.connect(record)
    try:
        response = _password_step(Client(), "clerk", "wrong-password")
    finally:
        user_login_failed.disconnect(record)
    assert response.status_code == 400
    assert "Неверное имя пользователя или пароль" in response.content.decode()
    assert failures == ["clerk"]


@pytest.mark.django_db
def test_an_account_with_neither_a_role_nor_the_admin_cannot_log_in_here(db):
    """A role-less admin account (is_staff) passes: the admin's way in is this login
    (tests/workspace/test_admin_second_factor.py); an account with neither does not."""
    from tests.factories import UserFactory

    nobody = UserFactory(username="no-role", esia_oid=None, is_staff=False)
    nobody.set_password("no-role-password-9")
    nobody.save()
    response = _password_step(Client(), "no-role", "no-role-password-9")
    assert response.status_code == 400
    assert "Неверное имя пользователя или пароль" in response.content.decode()


@pytest.mark.django_db
def test_a_citizen_is_sent_to_the_patient_cabinet(patient):
    browser = Client()
    browser.force_login(patient)
    response = browser.get("/workspace/")
    assert response.status_code == 403
    text = response.content.decode()
    assert "только для сотрудников" in text and reverse("identity:cabinet") in text


@pytest.mark.django_db
def test_a_password_only_session_is_asked_for_the_second_factor(clerk):
    browser = Client()
    browser.force_login(clerk)  # e.g. through the admin's login, which has no second factor
    response = browser.get("/workspace/day/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


@pytest.mark.django_db
def test_the_code_step_expires(clerk, settings):
    settings.WORKSPACE_PENDING_LOGIN_SECONDS = -1
    browser = Client()
    _password_step(browser, "clerk", "clerk-password-1")
    response = browser.get(CODE)
    assert response.status_code == 302 and response["Location"] == LOGIN


@pytest.mark.django_db
def test_logout_ends_the_workspace_session(clerk, as_staff):
    browser = as_staff(clerk)
    assert browser.get("/workspace/").status_code == 200
    assert browser.post("/workspace/logout/").status_code == 302
    assert browser.get("/workspace/").status_code == 302


@pytest.mark.django_db
def test_repeated_wrong_passwords_lock_the_workspace_login_too(clerk, settings):
    settings.AXES_FAILURE_LIMIT = 3
    browser = Client()
    for _ in range(3):
        _password_step(browser, "clerk", "wrong-password")
    # Locked out: even the right password is refused now, with django-axes' answer.
    response = _password_step(browser, "clerk", "clerk-password-1")
    assert response.status_code == 429
    assert browser.get(CODE).status_code == 302  # no pending login was started
