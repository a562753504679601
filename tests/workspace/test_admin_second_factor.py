"""The Django admin behind the workspace's two factors (issue 24, point 6).

Before: a superuser's password alone opened the admin, where TOTP devices can be deleted
and guardianships confirmed, while the workspace asked for a code as well.
"""

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.patients.models import Guardianship
from tests.factories import UserFactory
from tests.workspace.conftest import current_code, verified_client

pytestmark = pytest.mark.django_db
ADMIN = reverse("admin:index")


@pytest.fixture
def root():
    """A superuser with no workspace role, as `createsuperuser` makes one."""
    user = UserFactory(username="root", esia_oid=None, is_staff=True, is_superuser=True)
    user.set_password("root-password-9")
    user.save()
    return user


def test_a_password_only_session_does_not_open_the_admin(root):
    browser = Client()
    browser.force_login(root)
    response = browser.get(ADMIN, follow=True)
    assert response.request["PATH_INFO"] == reverse("workspace:login")
    assert "staff-admin" in response.request["QUERY_STRING"]  # and back after both factors


def test_the_admins_own_login_form_lets_nobody_in_with_a_password(root):
    browser = Client()
    response = browser.post(
        reverse("admin:login"), {"username": "root", "password": "root-password-9"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("workspace:login"))
    assert SESSION_KEY not in browser.session


def test_a_password_alone_deletes_no_device_and_confirms_no_guardianship(root, child):
    device = TOTPDevice.objects.create(user=root, name="workspace", confirmed=True)
    unverified = Guardianship.objects.filter(child=child).first()
    Guardianship.objects.filter(pk=unverified.pk).update(verified_at=None, verified_how="")
    browser = Client()
    browser.force_login(root)
    browser.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"})
    browser.post(
        reverse("admin:patients_guardianship_changelist"),
        {"action": "confirm_guardianships", "_selected_action": [unverified.pk]},
    )
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    unverified.refresh_from_db()
    assert unverified.verified_at is None


def test_with_both_factors_the_admin_opens(root):
    assert verified_client(root).get(ADMIN).status_code == 200


def test_a_superuser_without_a_role_comes_in_through_the_workspace_login(root):
    """The way in for the admin: password, then the code of the authenticator the login
    enrols on first use, then back to the admin."""
    browser = Client()
    start = browser.get(ADMIN, follow=True)
    assert start.request["PATH_INFO"] == reverse("workspace:login")
    password = browser.post(
        f"{reverse('workspace:login')}?next={ADMIN}",
        {"username": "root", "password": "root-password-9"},
    )
    assert password["Location"] == reverse("workspace:login_code")
    assert browser.get(password["Location"]).status_code == 200  # the enrolment's QR code
    device = TOTPDevice.objects.get(user=root)
    done = browser.post(reverse("workspace:login_code"), {"code": current_code(device)})
    assert done["Location"] == ADMIN
    assert browser.get(ADMIN).status_code == 200
