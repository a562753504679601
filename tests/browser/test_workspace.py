"""A clerk logs in with a password and TOTP, records an absence, and the patient sees the
clinic's cancellation in «Мои записи». Every workspace page is checked with axe-core."""

import datetime

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.factories import AppointmentFactory, DoctorFactory, SlotFactory
from tests.workspace.conftest import current_code

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def booked_patient(patient, home_clinic):
    doctor = DoctorFactory(clinic=home_clinic, last_name="Отпускова", first_name="Анна")
    day = timezone.localdate() + datetime.timedelta(days=3)
    starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(11, 0)))
    slot = SlotFactory(
        doctor=doctor,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(minutes=20),
        status="booked",
    )
    appointment = AppointmentFactory(slot=slot, patient=patient.patient)
    SlotFactory(
        doctor=doctor,
        starts_at=starts + datetime.timedelta(hours=1),
        ends_at=starts + datetime.timedelta(hours=1, minutes=20),
    )
    return {"doctor": doctor, "day": day, "appointment": appointment}


def test_a_clerk_records_an_absence_and_the_patient_sees_the_cancellation(
    live_server, page, assert_accessible, login_as, clerk, patient, booked_patient
):
    page.goto(f"{live_server.url}/workspace/login/")
    assert_accessible(page)
    page.get_by_label("Имя пользователя").fill("clerk")
    page.get_by_label("Пароль").fill("clerk-password-1")
    page.get_by_role("button", name="Продолжить").click()

    page.get_by_role("heading", name="Подключите приложение-аутентификатор").wait_for()
    assert_accessible(page)
    device = TOTPDevice.objects.get(user=clerk)
    page.get_by_label("Код из приложения").fill(current_code(device))
    page.get_by_role("button", name="Войти").click()
    page.get_by_role("heading", name="Рабочее место", exact=True).wait_for()
    assert_accessible(page)

    page.get_by_role("link", name="Список дня").first.click()
    page.get_by_label("Врач").select_option(label=None, index=1)
    page.get_by_label("Дата").fill(booked_patient["day"].isoformat())
    page.get_by_role("button", name="Показать").click()
    # The click only starts the form's navigation; read the list once it has come.
    expect(page.get_by_role("main")).to_contain_text(patient.patient.full_name)
    assert_accessible(page)

    page.get_by_role("link", name="Отсутствия", exact=True).click()
    assert_accessible(page)
    page.get_by_role("link", name="Записать отсутствие").click()
    page.get_by_label("Врач").select_option(index=1)
    page.get_by_label("Больничный").check()
    page.locator("#id_starts_on").fill(booked_patient["day"].isoformat())
    page.locator("#id_ends_on").fill(booked_patient["day"].isoformat())
    page.get_by_role("button", name="Показать, что изменится").click()
    page.get_by_role("heading", name="Что изменится").wait_for()
    assert patient.patient.short_name in page.content()
    assert_accessible(page)
    page.get_by_role("button", name="Подтвердить").click()
    page.get_by_text("Отсутствие записано").wait_for()
    assert_accessible(page)

    page.get_by_role("link", name="Запись по телефону").first.click()
    assert_accessible(page)
    page.get_by_role("button", name="Выйти из рабочего места").click()

    login_as(patient)
    page.goto(f"{live_server.url}/appointments/")
    assert "отменена поликлиникой" in page.content().lower()


def test_the_heads_dashboard_is_accessible(live_server, page, assert_accessible, browser, head):
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY

    doctor = DoctorFactory(clinic=head.clinic)
    SlotFactory(doctor=doctor)
    device = TOTPDevice.objects.create(user=head, name="workspace", confirmed=True)
    session = SessionStore()
    session[SESSION_KEY] = str(head.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = head.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    browser.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key,
          "url": live_server.url}]
    )  # fmt: skip
    page.goto(f"{live_server.url}/workspace/dashboard/")
    page.get_by_role("img", name="Свободное время на 14 дней").wait_for()
    assert_accessible(page)


def _staff_session(browser, live_server, user) -> None:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY

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
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key,
          "url": live_server.url}]
    )  # fmt: skip


def test_a_clerk_changes_a_schedule_with_the_keyboard_and_confirms_a_guardian(
    live_server, page, assert_accessible, browser, clerk, booked_patient, home_clinic
):
    from portal.scheduling.models import Appointment, ScheduleRule
    from tests.factories import ChildFactory, GuardianshipFactory, PatientFactory

    doctor = booked_patient["doctor"]
    ScheduleRule.objects.create(
        doctor=doctor,
        weekdays="1234567",
        start_time=datetime.time(8, 0),
        end_time=datetime.time(14, 0),
    )
    kid = ChildFactory(last_name="Новикова", first_name="Вера", clinic=home_clinic)
    GuardianshipFactory(
        guardian=PatientFactory(last_name="Новиков", first_name="Олег", sex="M"),
        child=kid,
        verified_at=None,
        verified_how="",
    )
    _staff_session(browser, live_server, clerk)

    page.goto(f"{live_server.url}/workspace/schedules/")
    assert_accessible(page)
    page.get_by_role("link", name="Открыть расписание — Отпускова Анна").click()
    page.get_by_role("heading", name="Расписание врача: Отпускова Анна", exact=False).wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Изменить", exact=False).first.click()
    assert_accessible(page)
    # Keyboard only: the end of hours, then Enter submits the form.
    page.get_by_label("Конец приёма").fill("10:00")
    page.get_by_label("Конец приёма").press("Enter")
    page.get_by_role("heading", name="Что изменится").wait_for()
    assert booked_patient["appointment"].ticket_number in page.content()
    assert_accessible(page)
    page.get_by_role("button", name="Опубликовать и отменить записи").focus()
    page.keyboard.press("Enter")
    page.get_by_text("Расписание опубликовано").wait_for()
    assert_accessible(page)
    appointment = Appointment.objects.get(pk=booked_patient["appointment"].pk)
    assert appointment.status == Appointment.Status.CANCELLED_CLINIC

    page.get_by_role("link", name="Представители").click()
    assert_accessible(page)
    page.get_by_label("Документы проверены").check()
    page.get_by_role("button", name="Подтвердить", exact=False).click()
    page.get_by_text("подтверждён(а) как законный представитель").wait_for()
    assert_accessible(page)
