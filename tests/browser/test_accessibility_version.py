"""Issue 16: the version for the visually impaired through its own switch and panel,
Esc on the surname menu, touch targets on a phone, and a booking made with the keyboard."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.scheduling.models import Appointment
from tests.factories import DoctorFactory, SlotFactory, SpecialtyFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def test_a_visitor_switches_the_version_on_and_it_follows_her(
    live_server, demo_region, page, assert_accessible, save_screenshot
):
    page.goto(live_server.url + "/districts/")
    page.get_by_role("link", name="Версия для слабовидящих").click()
    page.wait_for_url("**/accessibility/?next=/districts/")
    assert_accessible(page)
    page.get_by_label("Очень крупный (200 %)").check()
    page.get_by_label("Белым по чёрному").check()
    page.get_by_label("Увеличенный").check()
    page.get_by_role("button", name="Применить").click()
    page.wait_for_url(live_server.url + "/districts/")
    assert _background(page) == "rgb(0, 0, 0)"
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "32px"
    save_screenshot(page, "districts-visually-impaired")

    # Remembered on the next page, logged out; the panel changes one thing at a time.
    page.get_by_role("link", name="г. Иркутск").click()
    page.wait_for_url("**/districts/*/")
    assert _background(page) == "rgb(0, 0, 0)"
    page.get_by_role("button", name="Ц тёмно-синим по голубому").click()
    page.wait_for_url("**/districts/*/")
    assert _background(page) == "rgb(157, 209, 255)"
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "32px"
    assert_accessible(page)

    page.get_by_role("button", name="Обычная версия сайта").click()
    page.wait_for_url("**/districts/*/")
    assert _background(page) == "rgb(255, 255, 255)"
    expect(page.get_by_role("link", name="Версия для слабовидящих")).to_be_visible()


def test_images_off_keeps_the_tickets_qr_code_the_registry_scans(
    live_server, page, login_as, use_version, patient, home_clinic
):
    from tests.factories import AppointmentFactory

    appointment = AppointmentFactory(patient=patient.patient)
    login_as(patient)
    page.goto(live_server.url + f"/appointments/{appointment.pk}/")
    expect(page.locator(".ticket-qr svg")).to_be_visible()
    use_version("blue-150-no-images")
    page.reload()
    assert "a11y-images-off" in page.evaluate("document.documentElement.className")
    # Issue 27: the QR is not decoration but the ticket itself for the registry's scanner.
    expect(page.locator(".ticket-qr svg")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(appointment.ticket_number))).to_be_visible()


def test_esc_closes_the_surname_menu_and_returns_focus(live_server, page, login_as, guardian):
    login_as(guardian)
    page.goto(live_server.url + "/cabinet/")
    summary = page.locator(".account-menu summary")
    summary.click()
    page.locator(".account-menu-list .menu-item").first.focus()
    assert page.locator(".account-menu").get_attribute("open") is not None
    page.keyboard.press("Escape")
    assert page.locator(".account-menu").get_attribute("open") is None
    assert summary.evaluate("el => el === document.activeElement")


def test_touch_targets_on_a_phone_are_at_least_44_px(live_server, page, login_as, guardian, child):
    from tests.factories import AppointmentFactory

    appointment = AppointmentFactory(patient=child, booked_by=guardian)
    login_as(guardian)
    page.set_viewport_size({"width": 375, "height": 800})
    small = []
    for url in (
        "/cabinet/",
        "/appointments/",
        f"/appointments/{appointment.pk}/",
        "/cabinet/personal/",
    ):
        page.goto(live_server.url + url)
        for target in page.locator("main a, main button, header a, header summary").all():
            box = target.bounding_box()
            if box and box["width"] and (box["height"] < 44 or box["width"] < 44):
                small.append(
                    f"{url}: «{target.inner_text()}» {box['width']:.0f}×{box['height']:.0f}"
                )
    assert not small, "\n".join(small)


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
    day = timezone.localdate() + datetime.timedelta(days=1)
    starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
    SlotFactory(doctor=doctor, starts_at=starts, ends_at=starts + datetime.timedelta(minutes=20))
    return doctor


def _tab_to(page, name: str, *, navigates: bool = True, limit: int = 80) -> None:
    """Press Tab until the focused element's text starts with ``name``, then Enter."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        text = page.evaluate("(document.activeElement.innerText || '').trim()")
        if text.startswith(name):
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"«{name}» has focus but no visible focus outline"
            if navigates:
                with page.expect_navigation():
                    page.keyboard.press("Enter")
            else:
                page.keyboard.press("Enter")
            return
    raise AssertionError(f"Tab never reached «{name}» on {page.url}")


def test_a_mother_books_for_her_daughter_with_the_keyboard_only(
    live_server, page, login_as, guardian, child, ophthalmologist
):
    login_as(guardian)
    page.goto(live_server.url + "/cabinet/")
    _tab_to(page, "Иванова", navigates=False)  # the surname menu opens with Enter
    _tab_to(page, "Иванова М.И.")
    assert "Иванова Мария Ивановна" in page.locator(".acting-banner").inner_text()
    _tab_to(page, "Записаться к врачу")
    page.wait_for_url("**/booking/")
    _tab_to(page, ophthalmologist.clinic.district.name)
    _tab_to(page, ophthalmologist.clinic.short_name)
    _tab_to(page, "Офтальмолог")
    _tab_to(page, "Зорина Ольга Викторовна")
    page.wait_for_url(re.compile(r"/booking/doctor/\d+/$"))
    _tab_to(page, page.locator(".choice-list a").first.inner_text().split()[0])
    page.wait_for_url(re.compile(r"/booking/doctor/\d+/[\d-]+/$"))
    _tab_to(page, "10:00")
    page.wait_for_url(re.compile(r"/booking/slot/\d+/$"))
    expect(page.get_by_text("Иванова Мария Ивановна").first).to_be_visible()
    _tab_to(page, "Записаться")
    page.wait_for_url(re.compile(r"/appointments/\d+/$"))
    assert Appointment.objects.get().patient == child
