"""Issue 27, point 3: the form offers only the day's real parts of the day; the result says
why no time was drawn and links to the waitlist entry the draw made (only one that can
match); the pages say how many requests compete for how many times."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.release import draws, services
from portal.release.errors import ReleaseRefused
from portal.release.models import BallotRequest
from portal.waitlist.models import WaitlistEntry
from tests.factories import DoctorFactory, PatientFactory, SpecialtyFactory
from tests.release.conftest import day_ahead, followed_up, make_slots, open_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def afternoon_only(home_clinic):
    """A day whose times all start at 13:00 or later."""
    specialty = SpecialtyFactory(code="lor-t", name="Оториноларинголог")
    doctor = DoctorFactory(clinic=home_clinic, specialty=specialty, last_name="Лунин")
    opens = timezone.now() + datetime.timedelta(hours=1)
    make_slots(doctor, day_ahead(), [13, 14], opens)
    return services.ballot_open(
        clinic_id=home_clinic.pk, specialty_id=specialty.pk, day=day_ahead()
    )


def test_the_form_offers_no_morning_on_a_day_that_starts_at_13(client, patient, afternoon_only):
    client.force_login(patient)
    url = reverse("release:request_new", args=[afternoon_only.pk])
    form = client.get(url).content.decode()
    assert "утром, до 12:00" not in form
    assert "днём, с 12:00" in form and "в любое время" in form
    assert "с 13:00 до 14:00" in form
    response = client.post(url, {"times": "morning"})
    assert response.status_code == 400
    assert (
        "Выберите подходящее время из предложенных на этой странице." in response.content.decode()
    )
    assert not BallotRequest.objects.exists()


def test_the_service_refuses_a_part_of_the_day_that_has_no_times(patient, afternoon_only):
    with pytest.raises(ReleaseRefused) as refused:
        services.request_make(
            actor=patient,
            patient=patient.patient,
            ballot=afternoon_only,
            doctor_ids=[],
            times="morning",
        )
    assert refused.value.code == "release_times_absent"
    assert "В этот день нет приёма в выбранное время" in refused.value.message


def _request(user, ballot, doctors=(), times="any"):
    return services.request_make(
        actor=user, patient=user.patient, ballot=ballot, doctor_ids=list(doctors), times=times
    ).request


def test_none_of_the_chosen_times_existed_is_said_and_no_waitlist_is_made(
    client, patient, ballot, place
):
    """The first doctor works only in the morning; asking for him in the afternoon loses
    for that reason alone, whatever the draw's order."""
    _clinic, _specialty, first, _second = place
    row = _request(patient, ballot, doctors=[first.pk], times="afternoon")
    open_now(ballot)
    draws.draw_run(ballot_id=ballot.pk)
    row.refresh_from_db()
    assert row.status == BallotRequest.Status.LOST
    client.force_login(patient)
    page = client.get(reverse("release:request_detail", args=[row.pk])).content.decode()
    assert "не было ни одного приёма в выбранное время" in page
    assert "досталось" not in page and "достались" not in page
    assert not WaitlistEntry.objects.filter(patient=patient.patient).exists()
    assert "Место в листе ожидания" not in page


def _one_lost_of_two_for_the_second_doctor(ballot, place) -> BallotRequest:
    """Two patients ask for the second doctor's one time; the draw gives it to one."""
    _clinic, _specialty, _first, second = place
    rows = [
        _request(PatientFactory(clinic=place[0]).user, ballot, doctors=[second.pk])
        for _ in range(2)
    ]
    open_now(ballot)
    draws.draw_run(ballot_id=ballot.pk)
    followed_up()
    return BallotRequest.objects.get(pk__in=[r.pk for r in rows], status="lost")


def test_times_that_went_to_earlier_places_are_said_with_the_waitlist_link(client, ballot, place):
    lost = _one_lost_of_two_for_the_second_doctor(ballot, place)
    entry = WaitlistEntry.objects.get(patient=lost.patient)
    assert entry.date_from == entry.date_to == ballot.day
    client.force_login(lost.patient.user)
    page = client.get(reverse("release:request_detail", args=[lost.pk])).content.decode()
    assert (
        "подходящий вам приём в этот день был один, и он достался заявке, которую жеребьёвка "
        "поставила раньше" in page
    )
    assert f"{reverse('waitlist:entry_list')}#entry-{entry.pk}" in page
    assert "Заявок: 2; времён приёма в жеребьёвке: 3" in page


def test_the_lost_message_says_why(patient):
    from portal.notifications.texts import ballot_lost_content

    me = patient.patient
    none = ballot_lost_content(me, me, "Поликлиника", "08.12.2026", False, none_fit=True)
    assert "не было приёма в выбранное время" in none.text
    taken = ballot_lost_content(me, me, "Поликлиника", "08.12.2026", True)
    assert "досталось заявкам, которые жеребьёвка поставила раньше" in taken.text
    assert "лист ожидания" in taken.text


def test_the_form_says_how_many_requests_compete_for_how_many_times(client, patient, ballot):
    _request(PatientFactory().user, ballot)
    client.force_login(patient)
    form = client.get(reverse("release:request_new", args=[ballot.pk])).content.decode()
    assert "Заявок: 1; времён приёма в жеребьёвке: 3" in form


def _inputs_read(queries) -> bool:
    return any('"inputs"' in q["sql"] and "release_draw" in q["sql"] for q in queries)


def test_the_draw_stores_how_many_times_each_request_fitted(ballot, place, patient):
    """What the result page says of a loss is decided by the draw and kept on the request."""
    _clinic, _specialty, first, second = place
    none_fit = _request(patient, ballot, doctors=[first.pk], times="afternoon")
    rows = [
        _request(PatientFactory(clinic=place[0]).user, ballot, doctors=[second.pk])
        for _ in range(2)
    ]
    open_now(ballot)
    draws.draw_run(ballot_id=ballot.pk)
    fitted = dict(BallotRequest.objects.values_list("pk", "fitting"))
    assert fitted[none_fit.pk] == 0
    assert [fitted[r.pk] for r in rows] == [1, 1]


def test_a_loser_s_result_page_does_not_read_the_draw_s_inputs(client, ballot, place):
    """Every loser polls the page after the draw; the draw's record of all requests and
    slots is read only for a request decided before `fitting` was stored (the control)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lost = _one_lost_of_two_for_the_second_doctor(ballot, place)
    entry = WaitlistEntry.objects.get(patient=lost.patient)
    client.force_login(lost.patient.user)
    url = reverse("release:request_detail", args=[lost.pk])
    said = "подходящий вам приём в этот день был один"
    link = f"{reverse('waitlist:entry_list')}#entry-{entry.pk}"
    with CaptureQueriesContext(connection) as stored:
        page = client.get(url).content.decode()
    assert said in page and link in page
    assert not _inputs_read(stored.captured_queries)

    BallotRequest.objects.filter(pk=lost.pk).update(fitting=None)  # decided before it was kept
    with CaptureQueriesContext(connection) as older:
        page = client.get(url).content.decode()
    assert said in page and link in page
    assert _inputs_read(older.captured_queries)
