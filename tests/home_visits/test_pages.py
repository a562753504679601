"""The patient's pages: the form for oneself or a child, the request's page, the cabinet;
hostile input answered in Russian, never a 500 (docs/home-visits.md)."""

import pytest
from django.urls import reverse

from portal.home_visits import services
from portal.home_visits.models import HomeVisit
from tests.home_visits.conftest import valid_data

pytestmark = pytest.mark.django_db

FORM = {
    "address": "г. Иркутск, ул. Ленина, д. 5",
    "apartment": "12",
    "entrance": "2",
    "floor": "3",
    "intercom": "12#345",
    "phone": "+7 914 123-45-67",
    "symptoms": ["fever"],
    "temperature": "38,2",
    "details": "Кашель",
    "consent": "on",
}


def logged_in(client, user):
    client.force_login(user)
    return client


def test_anna_calls_a_doctor_for_maria_and_follows_it(client, guardian, child):
    browser = logged_in(client, guardian)
    page = browser.get(reverse("home_visits:new") + f"?patient={child.pk}")
    assert page.status_code == 200
    assert child.full_name in page.content.decode()
    answer = browser.post(reverse("home_visits:new"), {**FORM, "patient": child.pk})
    visit = HomeVisit.objects.get(patient=child)
    assert answer.status_code == 302 and answer.url == reverse(
        "home_visits:detail", args=[visit.pk]
    )
    detail = browser.get(answer.url).content.decode()
    assert "Принята" in detail and "домофон 12#345" in detail
    cabinet = browser.get(reverse("identity:cabinet")).content.decode()
    assert reverse("home_visits:detail", args=[visit.pk]) in cabinet


def test_a_red_flag_stops_the_form_and_says_call_103(client, guardian, child):
    answer = logged_in(client, guardian).post(
        reverse("home_visits:new"), {**FORM, "patient": child.pk, "red_flags": ["breathing"]}
    )
    assert answer.status_code == 400
    assert "103" in answer.content.decode() and 'href="tel:103"' in answer.content.decode()
    assert not HomeVisit.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        ("address", "<img src=x onerror=alert(1)>", "Укажите адрес"),
        ("address", "", "Обязательное поле"),
        ("address", "ул. " * 100, "Укажите адрес"),
        ("address", "ул. " * 700, "не более 2000 символов"),
        ("apartment", "12; DROP TABLE", "Квартира, подъезд"),
        ("entrance", "\u202e2", "Квартира, подъезд"),
        ("floor", "☃", "Квартира, подъезд"),
        ("intercom", "<script>", "Квартира, подъезд"),
        ("phone", "звоните маме", "Укажите телефон"),
        ("temperature", "1e999", "Укажите температуру"),
        ("details", "\x00", "Опишите жалобы"),
        ("details", "ж" * 1001, "Опишите жалобы"),
        ("symptoms", "anthrax", "Выберите корректный вариант"),
        ("consent", "", "согласие"),
        ("patient", "99999999999999999999", ""),
    ],
)
def test_hostile_input_in_every_field_is_a_clear_message(
    client, guardian, child, field, value, text
):
    data = {**FORM, "patient": child.pk, field: value}
    answer = logged_in(client, guardian).post(reverse("home_visits:new"), data)
    assert answer.status_code in (400, 302) if field == "patient" else answer.status_code == 400
    if text:
        assert text in answer.content.decode()
    if field != "patient":
        assert not HomeVisit.objects.exists()


def test_a_stranger_cannot_call_for_someone_elses_child_or_see_the_request(
    client, guardian, child, stranger
):
    visit = services.visit_create(actor=guardian, patient=child, data=valid_data(), ip=None)
    browser = logged_in(client, stranger)
    assert browser.get(reverse("home_visits:new") + f"?patient={child.pk}").status_code == 404
    answer = browser.post(reverse("home_visits:new"), {**FORM, "patient": child.pk})
    assert answer.status_code == 404
    assert browser.get(reverse("home_visits:detail", args=[visit.pk])).status_code == 404
    assert browser.post(reverse("home_visits:cancel", args=[visit.pk])).status_code == 404
    visit.refresh_from_db()
    assert visit.state == "received"


def test_an_unverified_guardian_sees_only_his_own_requests(
    client, guardian, child, unverified_guardian
):
    visit = services.visit_create(actor=guardian, patient=child, data=valid_data(), ip=None)
    browser = logged_in(client, unverified_guardian)
    assert browser.get(reverse("home_visits:detail", args=[visit.pk])).status_code == 404
    listing = browser.get(reverse("home_visits:list")).content.decode()
    assert reverse("home_visits:detail", args=[visit.pk]) not in listing


def test_the_family_cancels_and_the_page_says_so(client, guardian, child):
    visit = services.visit_create(actor=guardian, patient=child, data=valid_data(), ip=None)
    browser = logged_in(client, guardian)
    answer = browser.post(reverse("home_visits:cancel", args=[visit.pk]), {"reason": "Лучше"})
    assert answer.status_code == 302
    page = browser.get(answer.url).content.decode()
    assert "Отменён заявителем: Лучше" in page
    again = browser.post(reverse("home_visits:cancel", args=[visit.pk]), follow=True)
    assert "уже завершён или отменён" in again.content.decode()


def test_a_second_request_while_one_is_open_is_refused_with_a_link(client, guardian, child):
    visit = services.visit_create(actor=guardian, patient=child, data=valid_data(), ip=None)
    answer = logged_in(client, guardian).post(
        reverse("home_visits:new"), {**FORM, "patient": child.pk}
    )
    assert answer.status_code == 409
    body = answer.content.decode()
    assert "уже есть действующий вызов" in body
    assert reverse("home_visits:detail", args=[visit.pk]) in body


def test_anonymous_visitors_are_sent_to_log_in(client):
    answer = client.get(reverse("home_visits:new"))
    assert answer.status_code == 302 and answer.url.startswith(reverse("identity:cabinet"))


def test_the_journal_says_who_asked_and_who_accepted(client, guardian, child, clerk):
    visit = services.visit_create(actor=guardian, patient=child, data=valid_data(), ip=None)
    services.visit_accept(actor=clerk, visit_id=visit.pk, ip=None)
    journal = (
        logged_in(client, guardian).get(reverse("journal:page", args=[child.pk])).content.decode()
    )
    assert "Вызов врача на дом" in journal
    assert "Вызов врача на дом принят в работу" in journal
