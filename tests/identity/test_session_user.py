"""The session's user is read anew on every request: a change is seen on the very next one.

`core.middleware.UserMiddleware` reads the user once per request, eagerly, through
Django's ``get_user`` and the session's backend (`identity.backends`), and lets
django-otp mark the staff's second factor; nothing of the user is kept between requests
(docs/security.md). Each test makes the change behind the ORM's signals where it can
(``QuerySet.update``), so no invalidation could be what makes it seen, and checks the
request before the change as its control.
"""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.identity.backends import SESSION_BACKEND
from portal.patients.models import Patient
from portal.staff.models import StaffMember
from tests.workspace.conftest import verified_client

pytestmark = pytest.mark.django_db
User = get_user_model()
MINE = "/appointments/"  # «Мои записи»: only for a logged-in user


def _patient_browser(user) -> Client:
    browser = Client()
    browser.force_login(user, backend=SESSION_BACKEND)  # as the ESIA login stores it
    return browser


def _sent_to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        reverse("identity:cabinet")  # the login choice
    )


def test_a_deactivated_patient_is_refused_on_the_next_request(patient):
    browser = _patient_browser(patient)
    assert browser.get(MINE).status_code == 200  # control
    User.objects.filter(pk=patient.pk).update(is_active=False)
    assert _sent_to_login(browser.get(MINE))


def test_a_deleted_patient_is_anonymous_on_the_next_request(patient):
    browser = _patient_browser(patient)
    assert browser.get(MINE).status_code == 200  # control
    Patient.objects.filter(user=patient).delete()  # the record protects its user
    User.objects.filter(pk=patient.pk).delete()
    assert _sent_to_login(browser.get(MINE))


def test_a_name_change_shows_on_the_next_request(patient):
    browser = _patient_browser(patient)
    assert "Соколов" in browser.get("/cabinet/").content.decode()  # control
    Patient.objects.filter(user=patient).update(last_name="Морозов")
    page = browser.get("/cabinet/").content.decode()
    assert "Морозов" in page and "Соколов Н." not in page


def test_a_password_change_ends_the_patients_other_sessions(patient):
    browser = _patient_browser(patient)
    assert browser.get(MINE).status_code == 200  # control
    patient.set_password("a-new-password-7")
    patient.save()
    assert _sent_to_login(browser.get(MINE))


def test_a_password_change_ends_the_staffs_other_sessions(clerk):
    browser = verified_client(clerk)
    assert browser.get("/workspace/").status_code == 200  # control
    clerk.set_password("a-new-password-8")
    clerk.save()
    response = browser.get("/workspace/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("workspace:login"))


def test_a_deactivated_staff_member_is_refused_on_the_next_request(clerk):
    browser = verified_client(clerk)
    assert browser.get("/workspace/").status_code == 200  # control
    User.objects.filter(pk=clerk.pk).update(is_active=False)
    assert browser.get("/workspace/").status_code == 302


def test_a_removed_staff_role_is_refused_on_the_next_request(clerk):
    browser = verified_client(clerk)
    assert browser.get("/workspace/").status_code == 200  # control
    StaffMember.objects.filter(user=clerk).delete()
    assert browser.get("/workspace/").status_code == 403


def test_an_unconfirmed_second_factor_device_ends_the_verification(clerk):
    browser = verified_client(clerk)
    assert browser.get("/workspace/").status_code == 200  # control
    TOTPDevice.objects.filter(user=clerk).update(confirmed=False)
    response = browser.get("/workspace/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("workspace:login"))
    # and the session forgets the device, as django-otp's own middleware does
    TOTPDevice.objects.filter(user=clerk).update(confirmed=True)
    assert browser.get("/workspace/").status_code == 302
