"""`load_demo` creates the workspace personas; `totp_code` stands in for the phone."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from portal.demo import staff
from portal.staff.permissions import clinic_scope_for
from tests.shown import shown


def _code(username: str) -> str:
    out = StringIO()
    call_command("totp_code", username, stdout=out)
    return out.getvalue().strip()


@pytest.mark.django_db
def test_the_demo_clerk_logs_in_with_the_printed_password_and_the_dev_code(demo_region):
    staff.load(scale=1, log=lambda _: None)
    browser = Client()
    response = browser.post(
        "/workspace/login/", {"username": "registrator", "password": "demo-registrator-2"}
    )
    assert response.status_code == 302
    assert browser.post("/workspace/login/code/", {"code": _code("registrator")}).status_code == 302
    page = browser.get("/workspace/").content.decode()
    assert shown("Городская поликлиника № 1") in page


@pytest.mark.django_db
def test_the_demo_operator_sees_every_clinic_and_the_clerk_one(demo_region):
    staff.load(scale=1, log=lambda _: None)
    staff.load(scale=1, log=lambda _: None)  # a re-run changes nothing
    from portal.identity.models import User

    assert clinic_scope_for(User.objects.get(username="registrator")).count() == 1
    assert clinic_scope_for(User.objects.get(username="operator")).count() > 1


def test_demo_personas_print_the_staff_and_how_to_get_a_code():
    text = "\n".join(staff.describe())
    assert "registrator / demo-registrator-2" in text and "operator /" in text
    assert "totp_code" in text and "ключ TOTP" in text


@pytest.mark.django_db
def test_totp_code_refuses_to_run_without_the_emulator(clerk, settings):
    settings.ESIA_EMULATOR_ENABLED = False
    with pytest.raises(CommandError, match="только на стенде разработки"):
        _code("clerk")
