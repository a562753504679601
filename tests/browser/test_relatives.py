"""Рис. 5–9 in Chromium: personal data, add a child, relatives, the child's cabinet and back."""

import pytest
from playwright.sync_api import expect

from portal.demo.personas import birth_date, kid_by_key, persona_by_key
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)


def open_menu(page):
    """The surname button (Рис. 4); returns the opened menu."""
    page.locator(".account-menu summary").click()
    return page.locator(".account-menu-list")


def test_mother_adds_children_and_acts_for_one(
    live_server, demo_region, page, login_as, assert_accessible
):
    # The demo registry knows the children as the personas say (birth dates move with the week).
    maria_born, petr_born = birth_date(kid_by_key("maria")), birth_date(kid_by_key("petr"))
    anna = PatientFactory(
        policy_number="3801010101010126",
        esia_kids=[
            {
                "id": "7002",
                "last_name": "Иванов",
                "first_name": "Пётр",
                "middle_name": "Иванович",
                "birth_date": petr_born.isoformat(),
                "sex": "M",
                "policy_kind": "3",
                "policy_series": "",
                "policy_number": "3803030303030316",
            }
        ],
        birth_date=birth_date(persona_by_key("anna")),
    )
    login_as(anna.user)
    page.goto(live_server.url + "/cabinet/")
    menu = open_menu(page)
    assert_accessible(page)
    menu.get_by_role("link", name="Личные данные").click()
    page.wait_for_url("**/cabinet/personal/")
    expect(page.get_by_text("3801010101010126")).to_be_visible()
    assert_accessible(page)

    # Рис. 6–7: a wrong status is refused with a message at the field.
    open_menu(page).get_by_role("link", name="Добавить родственника").click()
    page.locator("#id_last_name").fill("Иванова")
    page.locator("#id_first_name").fill("Мария")
    page.locator("#id_middle_name").fill("Ивановна")
    page.locator("#id_birth_date").fill(maria_born.strftime("%d.%m.%Y"))
    page.locator("#id_sex").select_option("F")
    page.locator("#id_relation").select_option("son")
    page.locator("#id_policy_number").fill("3802020202020212")
    page.get_by_role("button", name="Сохранить").click()
    error = page.locator("#id_relation_error")
    assert "не совпадает с полом" in error.inner_text()
    assert page.locator("#id_relation").get_attribute("aria-invalid") == "true"
    assert_accessible(page)

    page.locator("#id_relation").select_option("daughter")
    page.get_by_role("button", name="Сохранить").click()
    page.wait_for_url("**/cabinet/personal/#relatives")
    row = page.locator("tbody tr", has_text="Иванова Мария Ивановна")
    assert "Дочь" in row.inner_text() and maria_born.strftime("%d.%m.%Y") in row.inner_text()
    assert_accessible(page)

    # «Добавить из Госуслуг»: one click.
    page.get_by_role("link", name="Добавить", exact=True).click()
    page.get_by_role("button", name="Добавить: Иванов Пётр Иванович").click()
    page.wait_for_url("**/cabinet/personal/#relatives")
    expect(page.locator("tbody tr")).to_have_count(2)

    # Рис. 9: the child in the surname menu switches the cabinet.
    open_menu(page).get_by_role("button", name="Иванова М.И.").click()
    page.wait_for_url("**/cabinet/")
    banner = page.get_by_role("region", name="Чей кабинет")
    assert "Иванова Мария Ивановна" in banner.inner_text()
    expect(page.get_by_role("heading", name="Иванова Мария Ивановна")).to_be_visible()
    assert_accessible(page)

    banner.get_by_role("button", name="Вернуться в свой кабинет").click()
    page.wait_for_url("**/cabinet/")
    # Already on /cabinet/ before the click, so the URL cannot say the page changed.
    expect(page.get_by_role("region", name="Чей кабинет")).to_have_count(0)
    expect(page.get_by_role("heading", name="Иванова Анна Петровна")).to_be_visible()
