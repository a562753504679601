"""«Уведомления», the preferences page, the link from «Личные данные», the dev page."""

import pytest
from django.test import Client, override_settings

from portal.notifications.models import Preference
from tests.notifications.conftest import book

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("email_only")]


@pytest.fixture
def booked_for_daughter(mother, daughter, slot_at, visit_time, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return book(mother, daughter, slot_at(visit_time))


def test_the_guardian_sees_what_was_sent_about_the_child_and_the_planned_reminders(
    client, mother, booked_for_daughter
):
    client.force_login(mother.user)
    page = client.get("/cabinet/notifications/").content.decode()

    assert "Иванова М.И." in page
    assert booked_for_daughter.ticket_number in page
    assert "anna@example.ru" in page
    assert "запланировано на" in page
    assert "напоминание накануне" in page


def test_another_guardian_sees_only_the_messages_sent_to_them(client, father, booked_for_daughter):
    client.force_login(father.user)
    page = client.get("/cabinet/notifications/").content.decode()

    assert "ivan@example.ru" in page
    assert "anna@example.ru" not in page


def test_a_stranger_sees_none_of_it(client, stranger, booked_for_daughter):
    client.force_login(stranger)
    page = client.get("/cabinet/notifications/").content.decode()

    assert booked_for_daughter.ticket_number not in page
    assert "Уведомлений пока не было" in page


def test_the_pages_need_a_login(client):
    assert client.get("/cabinet/notifications/").status_code == 302
    assert client.get("/cabinet/notifications/settings/").status_code == 302


def test_preferences_are_saved(client, mother):
    client.force_login(mother.user)
    assert "anna@example.ru" in client.get("/cabinet/notifications/settings/").content.decode()

    response = client.post("/cabinet/notifications/settings/", {"email_enabled": "on"}, follow=True)

    assert "Настройки уведомлений сохранены." in response.content.decode()
    saved = Preference.objects.get(patient=mother)
    assert (saved.email_enabled, saved.sms_enabled, saved.reminders_enabled) == (True, False, False)


def test_personal_data_links_to_the_notification_pages(client, mother):
    client.force_login(mother.user)
    page = client.get("/cabinet/personal/").content.decode()

    assert 'href="/cabinet/notifications/"' in page
    assert 'href="/cabinet/notifications/settings/"' in page


@override_settings(ROOT_URLCONF="portal.esia_emulator.urls")
def test_the_development_page_shows_the_outbox_and_the_sink_mailbox(
    settings, tmp_path, booked_for_daughter
):
    settings.NOTIFICATIONS_DEV_MAILBOX = tmp_path
    (tmp_path / "one.eml").write_bytes(
        b"Message-ID: <1@x>\r\nTo: anna@example.ru\r\nSubject: =?utf-8?b?0J/RgNC40LLQtdGC?=\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n"
    )
    page = Client().get("/dev/outbox/").content.decode()

    assert booked_for_daughter.ticket_number in page
    assert "напоминание в день приёма" in page
    assert "Привет" in page


@override_settings(ROOT_URLCONF="portal.esia_emulator.urls")
def test_the_development_page_names_the_ports_the_stand_runs_on(settings, tmp_path, db):
    settings.NOTIFICATIONS_DEV_MAILBOX = tmp_path
    settings.EMAIL_PORT = 18025
    settings.SMPP_PORT = 12775
    page = Client().get("/dev/outbox/").content.decode()
    assert "127.0.0.1:18025" in page and "127.0.0.1:12775" in page
    assert "8025)" not in page.replace("18025", "") and "2775)" not in page.replace("12775", "")
