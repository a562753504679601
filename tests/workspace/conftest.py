"""Staff sessions for workspace tests: logged in with both factors, as the login leaves them."""

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


def current_code(device: TOTPDevice) -> str:
    """The code an authenticator app would show now for ``device``."""
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def verified_client(user) -> Client:
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="workspace", defaults={"confirmed": True}
    )
    browser = Client()
    browser.force_login(user)
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return browser


@pytest.fixture
def as_staff():
    return verified_client
