import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_visitor_walks_from_home_to_a_clinic(
    live_server, demo_region, page, assert_accessible, save_screenshot
):
    page.goto(live_server.url + "/")
    save_screenshot(page, "home")
    expect(page.get_by_role("link", name="Личный кабинет").first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("navigation", name="Основное меню").get_by_role(
        "link", name="Медицинские организации"
    ).click()
    page.wait_for_url("**/districts/")
    first_page = page.locator(".tile-list a").all_inner_texts()
    assert first_page[:3] == ["г. Иркутск", "Иркутский район", "Шелеховский район"]
    assert_accessible(page)
    save_screenshot(page, "districts")

    page.get_by_role("link", name="Страница 2").click()
    page.wait_for_url("**/districts/?page=2")
    assert "г. Иркутск" not in page.locator(".tile-list a").all_inner_texts()
    assert page.locator('[aria-current="page"]').inner_text() == "2"
    assert_accessible(page)

    page.get_by_role("link", name="Страница 1").click()
    page.get_by_role("link", name="г. Иркутск").click()
    page.wait_for_url("**/districts/*/")
    expect(page.get_by_role("heading", name="г. Иркутск")).to_be_visible()
    assert page.locator(".card").count() >= 15
    assert_accessible(page)

    page.get_by_role("link", name="Городская поликлиника № 1", exact=True).click()
    page.wait_for_url("**/clinics/*/")
    expect(page.get_by_text("Терапевт участковый").first).to_be_visible()
    assert page.locator("tbody tr").count() > 5
    assert_accessible(page)


def test_home_page_works_on_a_phone(live_server, demo_region, page, assert_accessible):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url + "/")
    button = page.get_by_role("link", name="Личный кабинет").first
    assert button.bounding_box()["width"] <= 360
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 360, "no horizontal scrolling on a phone"
    assert_accessible(page)


def test_skip_link_moves_focus_to_content(live_server, demo_region, page):
    page.goto(live_server.url + "/districts/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Перейти к основному содержанию")
    assert skip.evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
