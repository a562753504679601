"""Login through ESIA in Chromium: the portal and the emulator on their own origins."""

import pytest
from playwright.sync_api import expect

from tests.esia_fixtures import esia_configure

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal(live_server, settings, esia_keys, esia_emulator_url):
    esia_configure(settings, esia_keys, esia_emulator_url, live_server.url)
    return live_server.url


def _to_esia(page, portal):
    page.goto(portal + "/")
    page.get_by_role("link", name="Личный кабинет").first.click()
    page.get_by_role("link", name="Войти через ЕСИА").click()
    page.wait_for_url("**/aas/oauth2/v2/ac?**")


def test_confirmed_citizen_logs_in_and_out(page, portal, assert_accessible):
    _to_esia(page, portal)
    expect(page.get_by_role("heading", name="Вход в систему")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Иванова Анна Петровна").click()
    page.wait_for_url(portal + "/cabinet/")
    expect(page.get_by_role("heading", name="Личный кабинет")).to_be_visible()
    expect(page.get_by_role("heading", name="Иванова Анна Петровна")).to_be_visible()
    assert_accessible(page)

    page.locator("summary", has_text="Иванова").click()  # the surname menu (Рис. 4)
    page.get_by_role("button", name="Выйти").click()
    page.wait_for_url(portal + "/")
    page.goto(portal + "/cabinet/")
    expect(page.get_by_role("link", name="Войти через ЕСИА")).to_be_visible()


@pytest.mark.parametrize(
    ("persona", "level"),
    [("Петров Сергей Николаевич", "стандартной"), ("Сидорова Ольга", "упрощённой")],
)
def test_unconfirmed_accounts_see_why_and_how_to_confirm(
    page, portal, assert_accessible, persona, level
):
    _to_esia(page, portal)
    page.get_by_role("button", name=persona).click()
    page.wait_for_url(portal + "/login/refused/not_confirmed/**")
    page.reload()  # a page of its own: the explanation survives a reload
    expect(
        page.get_by_role("heading", name="Нужна подтверждённая учётная запись Госуслуг")
    ).to_be_visible()
    expect(
        page.get_by_text(f"Вы вошли со {level}", exact=False).or_(
            page.get_by_text(f"Вы вошли с {level}", exact=False)
        )
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Как подтвердить учётную запись?")).to_be_visible()
    assert_accessible(page)


def test_cancel_on_the_esia_page_returns_to_the_login_choice(page, portal, assert_accessible):
    _to_esia(page, portal)
    page.get_by_role("button", name="Отмена").click()
    page.wait_for_url(portal + "/cabinet/")
    expect(page.get_by_text("Вход через Госуслуги отменён")).to_be_visible()
    expect(page.get_by_role("link", name="Войти через ЕСИА")).to_be_visible()
    assert_accessible(page)


def test_login_returns_the_patient_to_where_they_were_going(page, portal, assert_accessible):
    """Issue 16, item 9: «Записаться к врачу» before logging in ends on the booking page."""
    page.goto(portal + "/booking/")
    page.wait_for_url(portal + "/cabinet/?next=/booking/")
    assert_accessible(page)
    page.get_by_role("link", name="Войти через ЕСИА").click()
    page.wait_for_url("**/aas/oauth2/v2/ac?**")
    page.get_by_role("button", name="Иванова Анна Петровна").click()
    page.wait_for_url(portal + "/booking/")
    expect(page.get_by_role("heading", name="Запись к врачу")).to_be_visible()
