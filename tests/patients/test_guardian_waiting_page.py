"""A parent waiting for the clinic's confirmation is told where to go and what to bring."""

import pytest
from django.test import Client


@pytest.mark.django_db
def test_the_unverified_parent_is_told_the_clinic_its_address_and_the_documents(
    unverified_guardian, child
):
    browser = Client()
    browser.force_login(unverified_guardian)
    text = browser.get("/cabinet/personal/").content.decode()
    assert child.clinic.short_name in text and child.clinic.address in text
    assert "свидетельство о рождении" in text and "паспорт" in text


@pytest.mark.django_db
def test_a_verified_parent_is_not_sent_to_the_desk(guardian, child):
    browser = Client()
    browser.force_login(guardian)
    assert "свидетельство о рождении" not in browser.get("/cabinet/personal/").content.decode()
