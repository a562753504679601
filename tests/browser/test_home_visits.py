"""Анна calls a doctor home for Мария, the clinic's clerk accepts it and assigns a doctor
and a window, and Анна sees the doctor, the window and the notification
(docs/home-visits.md). Every page on the way is checked with axe-core."""

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.home_visits.models import HomeVisit
from tests.factories import DoctorFactory

pytestmark = pytest.mark.django_db(transaction=True)


def staff_login(browser, live_server, user):
    """A staff session that gave both factors, as the workspace login leaves it."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="workspace", defaults={"confirmed": True}
    )
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    browser.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.session_key,
                "url": live_server.url,
            }
        ]
    )


def test_anna_calls_a_doctor_for_maria_and_sees_who_comes_and_when(
    live_server, browser, page, assert_accessible, login_as, guardian, child, clerk
):
    mother = guardian.patient
    mother.email = "anna.ivanova@example.ru"
    mother.save()
    doctor = DoctorFactory(clinic=child.clinic, area="5", last_name="Участковая", first_name="Вера")

    login_as(guardian)
    page.goto(f"{live_server.url}/home-visits/new/?patient={child.pk}")
    page.get_by_role("heading", name="Вызвать врача на дом").wait_for()
    assert_accessible(page)
    page.get_by_label("Адрес (населённый пункт, улица, дом)").fill("г. Иркутск, ул. Ленина, д. 5")
    page.get_by_label("Квартира").fill("12")
    page.get_by_label("Код домофона").fill("12#345")
    page.get_by_label("Телефон для связи").fill("+7 914 000-00-01")
    page.get_by_label("температура", exact=True).check()
    page.get_by_label("Температура, °C").fill("38,6")
    page.get_by_label("Согласен(на) на посещение врачом на дому").check()
    page.get_by_role("button", name="Вызвать врача").click()
    page.locator("#visit-state").wait_for()
    assert "Принята" in page.locator("#visit-state").inner_text()
    assert_accessible(page)
    visit = HomeVisit.objects.get(patient=child)

    browser.clear_cookies()
    staff_login(browser, live_server, clerk)
    page.goto(f"{live_server.url}/workspace/home-visits/")
    row = page.locator(f"#visit-{visit.pk}")
    row.wait_for()
    assert_accessible(page)
    row.get_by_label("Врач").select_option(str(doctor.pk))
    row.get_by_label("с", exact=True).fill("10:00")
    row.get_by_label("до", exact=True).fill("13:00")
    row.get_by_role("button", name="Принять").click()
    page.get_by_text("Вызов принят в работу.").wait_for()
    assert "Участковая Вера" in page.locator(f"#visit-{visit.pk}").inner_text()

    browser.clear_cookies()
    login_as(guardian)
    page.goto(f"{live_server.url}/home-visits/{visit.pk}/")
    state = page.locator("#visit-state").inner_text()
    assert doctor.full_name in state and "с 10:00 до 13:00" in state
    page.goto(f"{live_server.url}/cabinet/notifications/")
    assert "на вызов назначен врач" in page.content()
    assert_accessible(page)
