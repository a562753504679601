"""The journal «Кто действовал от моего имени» speaks Russian and says what happened."""

import uuid

import pytest
from django.urls import reverse

from portal.audit.devices import device_summary
from portal.audit.models import AuditAction, AuditEvent
from portal.scheduling.services import appointment_book, appointment_cancel
from tests.factories import DoctorFactory, SlotFactory, SpecialtyFactory

pytestmark = pytest.mark.django_db

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
YANDEX_ANDROID = (
    "Mozilla/5.0 (Linux; Android 13; SM-A515F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 YaBrowser/24.4.1.99.00 SA/3 Mobile Safari/537.36"
)


@pytest.mark.parametrize(
    ("header", "summary"),
    [
        (CHROME_WINDOWS, "Chrome, Windows"),
        (SAFARI_IPHONE, "Safari, iOS"),
        (YANDEX_ANDROID, "Яндекс Браузер, Android"),
        ("", "Другое устройство"),
        ("curl/8.5.0", "Другое устройство"),
        ("<script>" * 200, "Другое устройство"),
    ],
)
def test_the_device_is_a_short_summary_never_the_header(header, summary):
    assert device_summary(header) == summary


def test_every_action_has_a_russian_label():
    for action in AuditAction:
        assert str(action.label) != action.value
        assert any("а" <= ch <= "я" for ch in str(action.label).lower())


def _journal(client, patient) -> str:
    return client.get(reverse("journal:page", args=[patient.pk])).content.decode()


def test_the_journal_names_the_child_the_doctor_the_time_and_the_device(client, guardian, child):
    client.force_login(guardian)
    client.post(
        reverse("patients:acting_switch"), {"patient": child.pk}, HTTP_USER_AGENT=SAFARI_IPHONE
    )
    doctor = DoctorFactory(
        last_name="Кузнецова", first_name="Ольга", specialty=SpecialtyFactory(name="Офтальмолог")
    )
    slot = SlotFactory(doctor=doctor)
    booked = appointment_book(
        actor=guardian, patient=child, slot_id=slot.pk, idempotency_key=uuid.uuid4()
    )
    appointment_cancel(actor=guardian, appointment=booked.appointment)
    client.post(
        reverse("patients:acting_switch"),
        {"patient": guardian.patient.pk},
        HTTP_USER_AGENT=CHROME_WINDOWS,
    )

    page = _journal(client, child)
    assert "Вход в кабинет ребёнка" in page and "Safari, iOS" in page
    assert "Запись к врачу" in page and "Отмена записи к врачу" in page
    assert "Офтальмолог, Кузнецова Ольга" in page
    when = booked.appointment.starts_at
    from django.utils import timezone

    assert timezone.localtime(when).strftime("%d.%m.%Y %H:%M") in page
    own = _journal(client, guardian.patient)
    assert "Возврат из кабинета ребёнка" in own and child.full_name in own
    assert "Chrome, Windows" in own
    raw = AuditEvent.objects.filter(action=AuditAction.ACTING_STARTED).get()
    assert raw.details["device"] == "Safari, iOS"


def test_the_login_shows_its_label_not_its_code(client, guardian):
    AuditEvent.objects.create(action=AuditAction.LOGIN, user=guardian, patient=guardian.patient)
    client.force_login(guardian)
    page = _journal(client, guardian.patient)
    assert "Вход в личный кабинет через Госуслуги" in page
    assert ">login<" not in page


def test_adding_a_child_says_which_child(client, guardian, child):
    AuditEvent.objects.create(
        action=AuditAction.RELATIVE_ADDED,
        user=guardian,
        patient=guardian.patient,
        details={"child_id": child.pk, "device": "Firefox, Linux"},
    )
    client.force_login(guardian)
    page = _journal(client, guardian.patient)
    assert "Добавлен(а) в список родственников" in page and child.full_name in page
    assert "Firefox, Linux" in page


def test_reading_the_journal_of_a_stranger_is_refused_and_journaled_not_named(
    client, guardian, child, stranger
):
    client.force_login(stranger)
    assert client.get(reverse("journal:page", args=[child.pk])).status_code == 404
    event = AuditEvent.objects.get(action=AuditAction.ACCESS_REFUSED)
    assert event.patient == child and event.user == stranger
    client.force_login(guardian)
    page = _journal(client, child)
    assert "Попытка доступа отклонена" in page and stranger.patient.last_name not in page
