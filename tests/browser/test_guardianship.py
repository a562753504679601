"""A mother is told in her cabinet that someone else added her daughter, and revokes them."""

import pytest
from playwright.sync_api import expect

from portal.patients.models import Guardianship
from tests.factories import ChildFactory, GuardianshipFactory, PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_mother_revokes_a_newcomer_from_her_cabinet(live_server, page, login_as, assert_accessible):
    mother = PatientFactory(last_name="Сидорова", first_name="Ольга")
    daughter = ChildFactory(last_name="Сидорова", first_name="Алиса")
    GuardianshipFactory(guardian=mother, child=daughter)
    stranger = PatientFactory(last_name="Петров", first_name="Сергей", sex="M")
    newcomer = GuardianshipFactory(guardian=stranger, child=daughter, verified_at=None)

    login_as(mother.user)
    page.goto(live_server.url + "/cabinet/")
    expect(
        page.get_by_text("К вашему ребёнку добавлен новый законный представитель")
    ).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Подробнее в «Личных данных»").click()
    page.wait_for_url("**/cabinet/personal/**")
    notice = page.locator("#guardians")
    assert "Петров С." in notice.inner_text()
    assert_accessible(page)
    notice.get_by_role("button", name="Отозвать доступ").click()
    page.wait_for_url("**/cabinet/personal/**")
    expect(page.get_by_text("к кабинету ребёнка отозван")).to_be_visible()
    expect(page.locator("#guardians")).to_have_count(0)
    newcomer.refresh_from_db()
    assert newcomer.end_reason == Guardianship.EndReason.REVOKED
