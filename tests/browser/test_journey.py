"""The whole story of the issues' "done when", through the real ESIA emulator.

Анна logs in through ESIA (Рис. 1–4), adds her daughter from Gosuslugi (Рис. 6–8),
books for herself, switches into Мария's cabinet (Рис. 9) and books for her, sees both in
«Мои записи», opens a ticket, downloads the .ics and cancels.
"""

import datetime
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.directory.models import Doctor
from portal.scheduling.models import Appointment
from tests.esia_fixtures import esia_configure
from tests.factories import SlotFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _open_slots(clinic_name: str, specialty_code: str) -> Doctor:
    doctor = Doctor.objects.filter(
        clinic__short_name=clinic_name, specialty__code=specialty_code
    ).first()
    day = timezone.localdate() + datetime.timedelta(days=2)
    for hour in (9, 10):
        starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))
        SlotFactory(
            doctor=doctor, starts_at=starts, ends_at=starts + datetime.timedelta(minutes=20)
        )
    assert doctor is not None, clinic_name
    return doctor


def _book_nearest(page, specialty: str):
    page.get_by_role("link", name="Ближайшее свободное время").first.click()
    page.get_by_label("Специальность").select_option(label=specialty)
    page.get_by_label("Где").select_option(label="Моя поликлиника прикрепления")
    page.get_by_role("button", name="Найти").click()
    page.get_by_role("link", name=re.compile("Записаться на")).first.click()
    page.get_by_role("button", name="Записаться").click()
    page.wait_for_url(re.compile(r"/appointments/\d+/$"))


def test_mother_books_for_herself_and_her_daughter_after_logging_in_through_esia(
    live_server,
    settings,
    esia_keys,
    esia_emulator_url,
    demo_region,
    page,
    assert_accessible,
    save_screenshot,
):
    esia_configure(settings, esia_keys, esia_emulator_url, live_server.url)
    therapist = _open_slots("Городская поликлиника № 1", "therapist")
    pediatrician = _open_slots("Детская поликлиника № 1", "pediatrician")

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Личный кабинет").first.click()
    page.get_by_role("link", name="Войти через ЕСИА").click()
    page.get_by_role("button", name="Иванова Анна Петровна").click()
    page.wait_for_url(live_server.url + "/cabinet/")
    # Insurer and attachment come from the registry of insured persons, not typed.
    expect(page.get_by_text("Городская поликлиника № 1").first).to_be_visible()
    save_screenshot(page, "cabinet")

    page.locator(".account-menu summary").click()
    page.locator(".account-menu-list").get_by_role("link", name="Добавить родственника").click()
    page.get_by_role("button", name="Добавить: Иванова Мария Ивановна").click()
    page.wait_for_url("**/cabinet/personal/#relatives")

    page.goto(live_server.url + "/cabinet/")
    _book_nearest(page, "Терапевт участковый")
    expect(page.get_by_text(therapist.full_name).first).to_be_visible()

    page.goto(live_server.url + "/cabinet/")
    page.locator(".account-menu summary").click()
    page.locator(".account-menu-list").get_by_role("button", name="Иванова М.И.").click()
    page.wait_for_url("**/cabinet/")
    _book_nearest(page, "Педиатр участковый")
    expect(page.get_by_text(pediatrician.full_name).first).to_be_visible()
    assert_accessible(page)
    # Issue 27: Мария's cabinet home opens on her next appointment.
    page.goto(live_server.url + "/cabinet/")
    expect(page.get_by_role("heading", name="Ближайшие приёмы")).to_be_visible()
    expect(page.locator(".cabinet-home").first.get_by_text(pediatrician.full_name)).to_be_visible()
    save_screenshot(page, "cabinet-home")
    page.go_back()  # to her ticket

    page.get_by_role("link", name="Все записи").click()
    # The click only starts the navigation: wait for the list itself, not the ticket.
    page.wait_for_url("**/appointments/")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    assert "Иванова М.И." in page.locator("main").inner_text()
    assert_accessible(page)
    save_screenshot(page, "appointments")
    page.set_viewport_size({"width": 375, "height": 812})
    save_screenshot(page, "appointments-phone")  # each row a card (issue 16)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.locator("tbody tr", has_text="Иванова М.И.").get_by_role("link").first.click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Добавить в календарь (.ics)").click()
    # The browser saves it under its own name, with the visit in UTC (every calendar
    # converts that right: tests/scheduling/test_ics_clients.py).
    assert download.value.suggested_filename.startswith("talon-")
    saved = Path(download.value.path()).read_text(encoding="utf-8")
    assert "BEGIN:VEVENT" in saved and "Z\n" in saved.replace("\r\n", "\n")
    page.get_by_role("link", name="Отменить запись").click()
    page.get_by_role("button", name="Да, отменить запись").click()
    page.wait_for_url("**/appointments/")
    assert Appointment.objects.filter(status=Appointment.Status.BOOKED).count() == 1
    expect(page.get_by_text("Запись отменена")).to_be_visible()
