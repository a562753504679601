"""A citizen books for herself and for her daughter, prints the ticket and cancels."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.scheduling.models import Appointment
from tests.factories import DoctorFactory, SlotFactory, SpecialtyFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ophthalmologist(home_clinic):
    doctor = DoctorFactory(
        clinic=home_clinic,
        specialty=SpecialtyFactory(code="ophthalmologist", name="Офтальмолог"),
        last_name="Зорина",
        first_name="Ольга",
        middle_name="Викторовна",
        room="214",
    )
    # Explicit times: the factory's sequence depends on how many slots earlier tests made.
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    for minutes in (0, 20, 40):
        starts = timezone.make_aware(
            datetime.datetime.combine(tomorrow, datetime.time(10, minutes))
        )
        SlotFactory(
            doctor=doctor, starts_at=starts, ends_at=starts + datetime.timedelta(minutes=20)
        )
    return doctor


def test_a_patient_books_prints_the_ticket_and_cancels(
    live_server, page, login_as, assert_accessible, patient, ophthalmologist
):
    login_as(patient)
    page.goto(live_server.url + "/booking/")
    assert_accessible(page)
    page.get_by_role("link", name=ophthalmologist.clinic.district.name).click()
    page.get_by_role("link", name=ophthalmologist.clinic.short_name).click()
    page.get_by_role("link", name="Офтальмолог").click()
    assert_accessible(page)
    page.get_by_role("link", name="Зорина Ольга Викторовна").click()
    page.locator(".choice-list a").first.click()
    assert_accessible(page)
    page.locator(".choice-list a").first.click()
    expect(page.get_by_role("heading", name="Подтверждение записи")).to_be_visible()
    expect(page.get_by_text("Соколов Николай Андреевич")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Записаться").click()
    page.wait_for_url(re.compile(r"/appointments/\d+/$"))
    appointment = Appointment.objects.get()
    expect(page.get_by_role("heading", name=re.compile(appointment.ticket_number))).to_be_visible()
    expect(page.locator(".ticket-qr svg")).to_have_count(1)
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Добавить в календарь (.ics)").click()
    assert download.value.suggested_filename.endswith(".ics")

    page.get_by_role("link", name="Отменить запись").click()
    assert_accessible(page)
    page.get_by_role("button", name="Да, отменить запись").click()
    page.wait_for_url("**/appointments/")
    expect(page.get_by_text("Запись отменена")).to_be_visible()
    expect(page.get_by_text("Предстоящих записей нет.")).to_be_visible()
    assert_accessible(page)


def test_a_mother_books_for_her_daughter_by_the_nearest_free_time(
    live_server, page, login_as, act_for, assert_accessible, guardian, child, ophthalmologist
):
    login_as(guardian)
    act_for(child)
    page.goto(live_server.url + "/booking/nearest/")
    banner = page.locator(".acting-banner").inner_text()
    assert "Вы в кабинете ребёнка: Иванова Мария Ивановна" in banner
    page.get_by_label("Специальность").select_option(label="Офтальмолог")
    page.get_by_label("Где").select_option(label="Моя поликлиника прикрепления")
    page.get_by_role("button", name="Найти").click()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("Записаться на")).first.click()
    expect(page.get_by_text("Иванова Мария Ивановна").first).to_be_visible()
    page.get_by_role("button", name="Записаться").click()
    page.wait_for_url(re.compile(r"/appointments/\d+/$"))
    assert Appointment.objects.get().patient == child

    page.get_by_role("link", name="Все записи").click()
    row = page.locator("tbody tr").first
    assert "Иванова М.И." in row.inner_text()
    assert_accessible(page)
