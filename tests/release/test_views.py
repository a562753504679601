"""The pages as people use them, and who may open which (the fixed personas)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.core.compiled import queries_falling_back
from portal.directory.models import Doctor
from portal.patients.selectors import ACTING_SESSION_KEY
from portal.release import draws, services
from portal.release.models import BallotRequest
from portal.scheduling.models import Slot
from tests.factories import DoctorFactory
from tests.release.conftest import open_now
from tests.workspace.conftest import verified_client

pytestmark = pytest.mark.django_db


def logged_in(client, user, acting=None):
    client.force_login(user)
    if acting is not None:
        session = client.session
        session[ACTING_SESSION_KEY] = acting.pk
        session.save()
    return client


def test_anonymous_visitors_are_sent_to_log_in(client, ballot):
    for url in (reverse("release:home"), reverse("release:request_new", args=[ballot.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("identity:cabinet") in response["Location"]


def test_a_patient_files_a_request_and_sees_it_waiting(client, patient, ballot, place):
    browser = logged_in(client, patient)
    home = browser.get(reverse("release:home")).content.decode()
    assert "Запись при открытии дня" in home and "Подать заявку" in home
    form = browser.get(reverse("release:request_new", args=[ballot.pk])).content.decode()
    assert "Зорина" in form and "утром, до 12:00" in form
    _, _, first, _ = place
    response = browser.post(
        reverse("release:request_new", args=[ballot.pk]),
        {"doctors": [str(first.pk)], "times": "morning"},
    )
    row = BallotRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("release:request_detail", args=[row.pk])
    page = browser.get(response["Location"]).content.decode()
    assert "ждёт жеребьёвки" in page and "Отозвать заявку" in page


def test_clicking_a_hundred_times_makes_one_request(client, patient, ballot):
    browser = logged_in(client, patient)
    for _ in range(100):
        browser.post(reverse("release:request_new", args=[ballot.pk]), {"times": "any"})
    assert BallotRequest.objects.count() == 1


def test_the_result_page_says_a_draw_happened_when_and_the_result(client, patient, ballot):
    row = services.request_make(
        actor=patient, patient=patient.patient, ballot=ballot, doctor_ids=[], times="any"
    ).request
    open_now(ballot)
    draw = draws.draw_run(ballot_id=ballot.pk)
    page = logged_in(client, patient).get(reverse("release:request_detail", args=[row.pk]))
    text = page.content.decode()
    assert "Жеребьёвка проведена" in text and "Вы записаны" in text
    assert draw.fingerprint in text and draw.seed not in text
    assert "Место заявки в порядке жеребьёвки: 1" in text
    won = BallotRequest.objects.select_related("appointment__slot__doctor").get(pk=row.pk)
    assert won.appointment.slot.doctor.full_name in text
    assert reverse("scheduling:appointment_ticket", args=[won.appointment.pk]) in text


def test_the_result_page_names_the_chosen_doctors_from_compiled_reads(
    client, patient, stranger, ballot, place
):
    """Polled every half second at the opening: a fixed number of statements, every read
    compiled (docs/performance.md, «The fair rush, request by request», «The result page
    in two reads»)."""
    _, _, first, second = place
    row = services.request_make(
        actor=patient,
        patient=patient.patient,
        ballot=ballot,
        doctor_ids=[first.pk, second.pk],
        times="any",
    ).request
    other = services.request_make(
        actor=stranger, patient=stranger.patient, ballot=ballot, doctor_ids=[], times="any"
    ).request
    browser = logged_in(client, patient)
    url = reverse("release:request_detail", args=[row.pk])
    browser.get(url)
    with CaptureQueriesContext(connection) as queries:
        text = browser.get(url).content.decode()
    # Both chosen doctors, by name; both requests compete for the three times.
    assert f"{second.full_name}; {first.full_name}" in text and "любой врач" not in text
    assert "Заявок: 2; времён приёма в жеребьёвке: 3" in text
    # The session (no Redis in tests), the user, the request's row, then its doctors,
    # the day's times and the count of requests in one.
    assert len(queries) == 4
    assert queries_falling_back() == []

    services.request_withdraw(actor=stranger, request=other)  # no longer competing
    assert "Заявок: 1; времён приёма в жеребьёвке: 3" in browser.get(url).content.decode()


def test_a_guardian_files_for_the_child_in_the_childs_cabinet(client, guardian, child, ballot):
    browser = logged_in(client, guardian, acting=child)
    browser.post(reverse("release:request_new", args=[ballot.pk]), {"times": "any"})
    assert BallotRequest.objects.get().patient == child


def test_a_stranger_cannot_open_or_withdraw_someone_elses_request(
    client, patient, stranger, ballot
):
    row = services.request_make(
        actor=patient, patient=patient.patient, ballot=ballot, doctor_ids=[], times="any"
    ).request
    browser = logged_in(client, stranger)
    assert browser.get(reverse("release:request_detail", args=[row.pk])).status_code == 404
    assert browser.post(reverse("release:request_withdraw", args=[row.pk])).status_code == 404
    assert BallotRequest.objects.get().status == "pending"


def test_a_guardian_acting_for_self_is_offered_the_childs_cabinet_for_its_request(
    client, guardian, child, ballot
):
    """Issue 27: not a 404 but «это заявка ребёнка — перейти в его кабинет?»; the page
    itself shows nothing of the request until the cabinet is switched."""
    row = services.request_make(
        actor=guardian, patient=child, ballot=ballot, doctor_ids=[], times="any"
    ).request
    page = logged_in(client, guardian).get(reverse("release:request_detail", args=[row.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert f"Это заявка пациента {child.full_name}" in text
    assert "ждёт жеребьёвки" not in text and "Отозвать заявку" not in text


@pytest.mark.parametrize(
    "data",
    [
        {"times": "never"},
        {"times": ""},
        {"doctors": ["abc"], "times": "any"},
        {"doctors": ["999999"], "times": "any"},
        {"doctors": ["1" * 400], "times": "any"},
    ],
)
def test_hostile_form_values_get_a_russian_message_and_write_nothing(client, patient, ballot, data):
    response = logged_in(client, patient).post(
        reverse("release:request_new", args=[ballot.pk]), data
    )
    assert response.status_code == 400
    assert "Выберите" in response.content.decode()
    assert not BallotRequest.objects.exists()


def test_an_unknown_or_closed_ballot_is_not_found(client, patient, ballot):
    browser = logged_in(client, patient)
    assert browser.get(reverse("release:request_new", args=[ballot.pk + 999])).status_code == 404
    open_now(ballot)
    assert browser.get(reverse("release:request_new", args=[ballot.pk])).status_code == 404


def test_a_refused_request_says_why(client, patient, ballot):
    from tests.factories import AppointmentFactory

    AppointmentFactory(patient=patient.patient, slot__doctor__specialty=ballot.specialty)
    response = logged_in(client, patient).post(
        reverse("release:request_new", args=[ballot.pk]), {"times": "any"}
    )
    assert response.status_code == 409
    assert "Перенести" in response.content.decode()


def test_staff_see_their_clinics_ballots_and_only_the_operator_replays(
    client, ballot, clerk, other_clerk, head, operator, patient
):
    services.request_make(
        actor=patient, patient=patient.patient, ballot=ballot, doctor_ids=[], times="any"
    )
    open_now(ballot)
    draw = draws.draw_run(ballot_id=ballot.pk)
    detail = reverse("release:staff_detail", args=[ballot.pk])
    for user in (clerk, head):
        page = verified_client(user).get(detail + "?replay=1").content.decode()
        assert draw.fingerprint in page and draw.seed not in page and "Повтор" not in page
    assert verified_client(other_clerk).get(detail).status_code == 404
    assert (
        str(ballot.clinic.short_name)
        not in verified_client(other_clerk).get(reverse("release:staff_list")).content.decode()
    )
    page = verified_client(operator).get(detail + "?replay=1").content.decode()
    assert draw.seed in page and "дал то же распределение" in page


def test_citizens_and_anonymous_visitors_are_kept_out_of_the_workspace_pages(
    client, patient, ballot
):
    for url in (reverse("release:staff_list"), reverse("release:staff_detail", args=[ballot.pk])):
        assert client.get(url).status_code == 302
        assert logged_in(client, patient).get(url).status_code == 403
        client.logout()


def test_a_withdrawal_from_the_page(client, patient, ballot):
    row = services.request_make(
        actor=patient, patient=patient.patient, ballot=ballot, doctor_ids=[], times="any"
    ).request
    browser = logged_in(client, patient)
    response = browser.post(reverse("release:request_withdraw", args=[row.pk]), follow=True)
    assert "Заявка отозвана" in response.content.decode()
    again = browser.post(reverse("release:request_withdraw", args=[row.pk]), follow=True)
    assert "уже нельзя отозвать" in again.content.decode()


STAFF_COLUMNS = (
    "anonymous",
    "patient",
    "guardian",
    "stranger",
    "clerk",
    "other_clerk",
    "head",
    "operator",
)
# name → expected status per persona (staff logged in with both factors); the ballot is
# at the guardian's clinic: its clerk and head see it, the other clinic's clerk gets 404.
STAFF_MATRIX = {
    "release:staff_list":   (302, 403, 403, 403, 200, 200, 200, 200),
    "release:staff_detail": (302, 403, 403, 403, 200, 404, 200, 200),
}  # fmt: skip


def test_every_staff_page_gives_each_persona_the_expected_status(
    ballot, patient, guardian, stranger, clerk, other_clerk, head, operator
):
    from django.test import Client

    users = {
        "patient": patient,
        "guardian": guardian,
        "stranger": stranger,
        "clerk": clerk,
        "other_clerk": other_clerk,
        "head": head,
        "operator": operator,
    }
    urls = {
        "release:staff_list": reverse("release:staff_list"),
        "release:staff_detail": reverse("release:staff_detail", args=[ballot.pk]),
    }
    mismatches = []
    for column, persona in enumerate(STAFF_COLUMNS):
        user = users.get(persona)
        if user is None:
            browser = Client()
        elif persona in ("clerk", "other_clerk", "head", "operator"):
            browser = verified_client(user)
        else:
            browser = Client()
            browser.force_login(user)
        for name, url in urls.items():
            status = browser.get(url).status_code
            if status != STAFF_MATRIX[name][column]:
                mismatches.append(f"{name} as {persona}: {status}")
    assert not mismatches


# The booking's lock 1 (`patients.locks.patient_lock_fresh`), its first statement.
LOCKED_PATIENT = 'FROM "patients_patient" p'


def _kept_slot_posted(client, patient, ballot):
    """At the opening, before the draw: a script posts the booking form of a kept slot."""
    slot = Slot.objects.filter(doctor__clinic=ballot.clinic).order_by("starts_at").first()
    browser = logged_in(client, patient)
    with CaptureQueriesContext(connection) as captured:
        response = browser.post(
            reverse("scheduling:booking_confirm", args=[slot.pk]),
            {"key": "7d0f3c1e-1f53-4f0e-9c55-0b8f6a9c7c11"},
        )
    return slot, response, [q["sql"] for q in captured.captured_queries]


def test_a_booking_post_of_a_slot_kept_for_the_draw_is_refused_before_any_lock(
    client, patient, ballot
):
    open_now(ballot)
    slot, response, sent = _kept_slot_posted(client, patient, ballot)
    assert response.status_code == 409
    assert "жеребьёвк" in response.content.decode()
    assert not any(LOCKED_PATIENT in sql for sql in sent), sent
    slot.refresh_from_db()
    assert slot.status == slot.Status.FREE and slot.held_until is not None


def test_a_kept_slot_whose_doctor_left_is_refused_for_that_reason_under_the_locks(
    client, patient, ballot
):
    """The early answer is only ever the one the locks would give: a reason the slot's
    state names first (here its doctor no longer sees patients) goes to the locked check."""
    open_now(ballot)
    Doctor.objects.filter(clinic=ballot.clinic).update(is_active=False)
    _slot, response, sent = _kept_slot_posted(client, patient, ballot)
    assert response.status_code == 409
    assert "жеребьёвк" not in response.content.decode()
    assert any(LOCKED_PATIENT in sql for sql in sent), sent


def _sent(browser, method, url, data=None):
    with CaptureQueriesContext(connection) as queries:
        response = getattr(browser, method)(url, data or {})
    return response, [q["sql"] for q in queries.captured_queries]


def _counts_competitors(sql: str) -> bool:
    return sql.lstrip().upper().startswith("SELECT COUNT") and "release_ballotrequest" in sql


def test_a_first_request_for_any_doctor_reads_neither_the_count_nor_the_doctors(
    client, patient, ballot, place
):
    """At the start of collection the first POSTs come in a burst: the count of competing
    requests is for a page to show, and «any doctor» needs no list of doctors to check."""
    browser = logged_in(client, patient)
    url = reverse("release:request_new", args=[ballot.pk])
    form, sent = _sent(browser, "get", url)
    assert "Заявок: 0;" in form.content.decode()  # the page shows it: counted
    assert any(_counts_competitors(sql) for sql in sent)
    answer, sent = _sent(browser, "post", url, {"times": "any"})
    assert answer.status_code == 302 and BallotRequest.objects.get().doctors.count() == 0
    assert not any(_counts_competitors(sql) for sql in sent)
    assert not any('FROM "directory_doctor"' in sql for sql in sent)


def test_a_request_naming_a_doctor_of_another_clinic_is_still_refused(
    client, patient, ballot, place
):
    _clinic, specialty, first, _second = place
    elsewhere = DoctorFactory(specialty=specialty)  # at a clinic of its own
    browser = logged_in(client, patient)
    url = reverse("release:request_new", args=[ballot.pk])
    mine = browser.post(url, {"times": "any", "doctors": [str(first.pk)]})
    assert mine.status_code == 302
    assert list(BallotRequest.objects.get().doctors.all()) == [first]
    BallotRequest.objects.all().delete()
    assert elsewhere.clinic_id != ballot.clinic_id
    forged = browser.post(url, {"times": "any", "doctors": [str(elsewhere.pk)]})
    assert forged.status_code == 400 and not BallotRequest.objects.exists()
