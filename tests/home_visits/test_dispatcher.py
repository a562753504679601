"""The dispatcher's side in the workspace (docs/home-visits.md): today's and tomorrow's
requests of the clinic by district, newest first; accept, assign, visited, cancel; a
request by phone; another clinic's clerk sees nothing."""

import datetime

import pytest
from django.urls import reverse

from portal.home_visits import services
from portal.home_visits.models import HomeVisit
from portal.home_visits.rules import next_working_day
from tests.factories import ChildFactory, GuardianshipFactory
from tests.home_visits.conftest import valid_data
from tests.workspace.conftest import verified_client

pytestmark = pytest.mark.django_db
QUEUE = reverse("home_visits_workspace:queue")


def make(guardian, child, area):
    child.area = area
    child.save()
    return services.visit_create(actor=guardian, patient=child, data=valid_data(), ip=None)


def test_the_queue_is_grouped_by_district_newest_first(guardian, child, clerk, home_clinic):
    older = make(guardian, child, "7")
    brother = ChildFactory(clinic=home_clinic, first_name="Пётр", middle_name="Иванович", sex="M")
    GuardianshipFactory(guardian=guardian.patient, child=brother)
    sister = ChildFactory(clinic=home_clinic, first_name="Ольга")
    GuardianshipFactory(guardian=guardian.patient, child=sister)
    newer = make(guardian, brother, "7")
    other_area = make(guardian, sister, "3")
    body = verified_client(clerk).get(QUEUE).content.decode()
    assert body.index("Участок 3") < body.index("Участок 7")
    assert body.index(f'id="visit-{other_area.pk}"') < body.index("Участок 7")
    assert body.index(f'id="visit-{newer.pk}"') < body.index(f'id="visit-{older.pk}"')
    assert "12#345" in body and "+79141234567" in body


def test_requests_past_the_next_working_day_are_not_in_the_queue(guardian, child, clerk):
    visit = make(guardian, child, "5")
    HomeVisit.objects.filter(pk=visit.pk).update(
        day=next_working_day("12345", next_working_day("12345", datetime.date.today()))
    )
    assert f'id="visit-{visit.pk}"' not in verified_client(clerk).get(QUEUE).content.decode()


def test_another_clinics_clerk_sees_nothing(guardian, child, other_clerk):
    visit = make(guardian, child, "5")
    browser = verified_client(other_clerk)
    assert f'id="visit-{visit.pk}"' not in browser.get(QUEUE).content.decode()
    url = reverse("home_visits_workspace:accept", args=[visit.pk])
    assert browser.post(url).status_code == 404


def test_the_districts_own_doctor_is_offered_first(
    guardian, child, clerk, district_doctor, other_doctor
):
    visit = make(guardian, child, "5")
    body = verified_client(clerk).get(QUEUE).content.decode()
    row = body[body.index(f'id="visit-{visit.pk}"') :]
    assert row.index(district_doctor.last_name) < row.index(other_doctor.last_name)


def test_accept_and_assign_then_the_family_sees_the_doctor_and_window(
    client, guardian, child, clerk, district_doctor
):
    visit = make(guardian, child, "5")
    browser = verified_client(clerk)
    answer = browser.post(
        reverse("home_visits_workspace:accept", args=[visit.pk]),
        {"doctor": district_doctor.pk, "start": "10:00", "end": "13:00"},
        follow=True,
    )
    assert "Вызов принят в работу." in answer.content.decode()
    client.force_login(guardian)
    page = client.get(reverse("home_visits:detail", args=[visit.pk])).content.decode()
    assert district_doctor.full_name in page and "с 10:00 до 13:00" in page


def test_the_second_clerk_is_told_who_took_it(guardian, child, clerk, head):
    visit = make(guardian, child, "5")
    url = reverse("home_visits_workspace:accept", args=[visit.pk])
    verified_client(clerk).post(url)
    answer = verified_client(head).post(url, follow=True)
    assert f"Вызов уже принял(а) {clerk.get_full_name()}" in answer.content.decode()


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ({"doctor": "x", "start": "10:00", "end": "12:00"}, "Выберите врача"),
        ({"doctor": "1", "start": "25:99", "end": "12:00"}, "Укажите время ожидания"),
        ({"doctor": "999999", "start": "10:00", "end": "12:00"}, "Выберите врача"),
        ({"doctor": "", "start": "", "end": ""}, "Укажите время ожидания"),
    ],
)
def test_bad_assignment_is_a_message_not_a_500(guardian, child, clerk, data, text):
    visit = make(guardian, child, "5")
    browser = verified_client(clerk)
    browser.post(reverse("home_visits_workspace:accept", args=[visit.pk]))
    answer = browser.post(
        reverse("home_visits_workspace:assign", args=[visit.pk]), data, follow=True
    )
    assert answer.status_code == 200 and text in answer.content.decode()


def test_visited_and_cancel_with_reason(guardian, child, clerk, district_doctor):
    first = make(guardian, child, "5")
    browser = verified_client(clerk)
    browser.post(
        reverse("home_visits_workspace:accept", args=[first.pk]),
        {"doctor": district_doctor.pk, "start": "10:00", "end": "13:00"},
    )
    browser.post(reverse("home_visits_workspace:visited", args=[first.pk]))
    first.refresh_from_db()
    assert first.state == "visited"
    second = make(guardian, child, "5")
    answer = browser.post(reverse("home_visits_workspace:cancel", args=[second.pk]), follow=True)
    assert "Укажите причину отмены" in answer.content.decode()
    browser.post(
        reverse("home_visits_workspace:cancel", args=[second.pk]), {"reason": "Дубль вызова"}
    )
    second.refresh_from_db()
    assert second.state == "cancelled" and second.cancel_reason == "Дубль вызова"


def test_a_request_by_phone(guardian, child, clerk):
    form = {
        "policy": child.policy_number,
        "address": "г. Иркутск, ул. Ленина, д. 5",
        "phone": "89141234567",
        "symptoms": ["fever"],
        "consent": "on",
    }
    browser = verified_client(clerk)
    answer = browser.post(reverse("home_visits_workspace:phone"), form, follow=True)
    visit = HomeVisit.objects.get(patient=child)
    assert visit.by_phone and visit.applicant == clerk
    assert f'id="visit-{visit.pk}"' in answer.content.decode()
    unknown = browser.post(
        reverse("home_visits_workspace:phone"), {**form, "policy": "1234567890123456"}
    )
    assert unknown.status_code == 404
    assert "не прикреплён к вашей поликлинике" in unknown.content.decode()
