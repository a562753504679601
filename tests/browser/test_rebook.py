"""Issue 13's journey with the rebook offer, and issue 14's waitlist in the browser.

A clerk logs in with TOTP and records an absence; the patient sees the cancellation in
«Мои записи» and «Уведомления» and takes the offered time with one click. A guardian
puts her daughter on the waitlist, sees the place in line, and takes the time another
patient's cancellation freed. Every page is checked with axe-core."""

import datetime

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.scheduling.models import Appointment
from portal.scheduling.services import appointment_cancel
from portal.waitlist.models import Offer
from tests.factories import AppointmentFactory, DoctorFactory, SlotFactory, SpecialtyFactory
from tests.workspace.conftest import current_code

pytestmark = pytest.mark.django_db(transaction=True)


def _slot(doctor, day, hour, **kwargs):
    starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))
    return SlotFactory(
        doctor=doctor, starts_at=starts, ends_at=starts + datetime.timedelta(minutes=20), **kwargs
    )


def test_after_an_absence_the_patient_takes_the_offered_time_with_one_click(
    live_server, page, assert_accessible, login_as, clerk, patient, home_clinic
):
    doctor = DoctorFactory(clinic=home_clinic, last_name="Отпускова", first_name="Анна")
    day = timezone.localdate() + datetime.timedelta(days=3)
    booked = _slot(doctor, day, 11, status="booked")
    AppointmentFactory(slot=booked, patient=patient.patient)
    later = _slot(doctor, day + datetime.timedelta(days=1), 10)
    patient.patient.email = "nikolay@example.ru"
    patient.patient.save(update_fields=["email"])

    page.goto(f"{live_server.url}/workspace/login/")
    page.get_by_label("Имя пользователя").fill("clerk")
    page.get_by_label("Пароль").fill("clerk-password-1")
    page.get_by_role("button", name="Продолжить").click()
    page.get_by_role("heading", name="Подключите приложение-аутентификатор").wait_for()
    device = TOTPDevice.objects.get(user=clerk)
    page.get_by_label("Код из приложения").fill(current_code(device))
    page.get_by_role("button", name="Войти").click()
    page.get_by_role("heading", name="Рабочее место", exact=True).wait_for()
    page.get_by_role("link", name="Отсутствия", exact=True).click()
    page.get_by_role("link", name="Записать отсутствие").click()
    page.get_by_label("Врач").select_option(index=1)
    page.get_by_label("Больничный").check()
    page.locator("#id_starts_on").fill(day.isoformat())
    page.locator("#id_ends_on").fill(day.isoformat())
    page.get_by_role("button", name="Показать, что изменится").click()
    page.get_by_role("button", name="Подтвердить").click()
    page.get_by_text("Отсутствие записано").wait_for()
    page.get_by_role("button", name="Выйти из рабочего места").click()

    login_as(patient)
    page.goto(f"{live_server.url}/appointments/")
    assert "отменена поликлиникой" in page.content().lower()
    page.get_by_text("Для вас придержано время приёма").wait_for()
    assert_accessible(page)
    page.goto(f"{live_server.url}/cabinet/notifications/")
    content = page.content()
    assert "отмена записи поликлиникой" in content
    assert "предложено время взамен отменённого" in content
    assert_accessible(page)
    page.get_by_role("link", name="ответить на предложение").first.click()
    page.get_by_role("heading", name="Действующие предложения").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Записаться").click()
    page.get_by_text("Вы записаны на приём").wait_for()
    assert_accessible(page)

    taken = Appointment.objects.get(patient=patient.patient, status="booked")
    assert taken.slot_id == later.pk
    assert Offer.objects.get().status == Offer.Status.TAKEN


def test_a_guardian_waits_for_her_daughter_and_takes_the_freed_time(
    live_server, page, assert_accessible, login_as, act_for, guardian, child, stranger, home_clinic
):
    doctor = DoctorFactory(
        clinic=home_clinic,
        specialty=SpecialtyFactory(code="ophthalmologist", name="Офтальмолог"),
        last_name="Зорина",
        first_name="Ольга",
    )
    day = timezone.localdate() + datetime.timedelta(days=2)
    taken = AppointmentFactory(
        slot=_slot(doctor, day, 9, status="booked"), patient=stranger.patient
    )

    login_as(guardian)
    act_for(child)
    page.goto(f"{live_server.url}/booking/clinic/{home_clinic.pk}/specialty/{doctor.specialty_id}/")
    page.get_by_role("link", name="Встать в лист ожидания").click()
    assert_accessible(page)
    page.get_by_label("утром (до 12:00)").check()
    page.get_by_role("button", name="Встать в лист ожидания").click()
    page.get_by_text("Место в очереди: 1").wait_for()
    assert "вы первые в очереди" in page.content()  # not «впереди 0 человек» (issue 27)
    assert_accessible(page)

    appointment_cancel(actor=stranger, appointment=taken)  # on commit: offered to the child

    page.goto(f"{live_server.url}/offers/")
    card = page.locator(".card-list .card").first
    card.wait_for()
    assert "Иванова М.И." in card.inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Записаться").click()
    page.get_by_text("Вы записаны на приём").wait_for()
    assert Appointment.objects.get(slot=taken.slot, status="booked").patient_id == child.pk
