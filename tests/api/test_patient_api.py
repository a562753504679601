"""The authorization matrix and the booking rules through the API (docs/security.md:
every persona on every path).

Personas: ``patient`` (no children), ``guardian`` with ``child``, ``stranger``, and no token.
"""

import datetime

import pytest
from django.utils import timezone

from portal.scheduling.errors import ERRORS, BookingRefused
from portal.scheduling.models import Appointment
from portal.scheduling.services import slot_hold
from tests.api.conftest import booking, outcome_text
from tests.factories import AppointmentFactory, ChildFactory, GuardianshipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_guardian(fhir, token_for, guardian, child):
    return fhir(token_for(guardian))


@pytest.fixture
def as_stranger(fhir, token_for, stranger):
    return fhir(token_for(stranger))


def test_without_a_token_nothing_personal_is_answered(fhir, child, open_slot):
    anonymous = fhir()
    for path in ("Patient", f"Patient/{child.pk}", "Appointment", "RelatedPerson"):
        response = anonymous.get(path)
        assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    response = anonymous.post("Appointment", booking(open_slot().pk, child.pk))
    assert response.status_code == 401
    assert "войдите в приложение через Госуслуги" in outcome_text(response)


def test_a_guardian_sees_herself_and_her_child_and_is_the_childs_related_person(
    as_guardian, guardian, child
):
    ids = {e["resource"]["id"] for e in as_guardian.get("Patient").body["entry"]}
    assert ids == {str(guardian.patient.pk), str(child.pk)}
    assert as_guardian.get(f"Patient/{child.pk}").body["birthDate"] == child.birth_date.isoformat()
    related = as_guardian.get("RelatedPerson").body["entry"]
    assert [r["resource"]["patient"]["reference"] for r in related] == [f"Patient/{child.pk}"]
    one = as_guardian.get(f"RelatedPerson/{related[0]['resource']['id']}")
    assert one.body["name"][0]["family"] == guardian.patient.last_name


def test_a_stranger_cannot_read_book_or_cancel_for_anothers_child(
    as_stranger, guardian, child, open_slot
):
    assert as_stranger.get(f"Patient/{child.pk}").status_code == 404
    assert [e["resource"]["id"] for e in as_stranger.get("Patient").body["entry"]] == [
        str(as_stranger_patient_id(as_stranger))
    ]
    assert as_stranger.get("RelatedPerson").body["total"] == 0

    refused = as_stranger.post("Appointment", booking(open_slot().pk, child.pk))
    assert refused.status_code == 403
    assert "от имени этого пациента" in outcome_text(refused)
    assert not Appointment.objects.filter(patient=child).exists()

    theirs = AppointmentFactory(patient=child, booked_by=guardian)
    assert as_stranger.get(f"Appointment/{theirs.pk}").status_code == 404
    assert as_stranger.patch_cancel(theirs.pk).status_code == 404
    assert as_stranger.get("Appointment", {"patient": f"Patient/{child.pk}"}).body["entry"] == []
    theirs.refresh_from_db()
    assert theirs.status == "booked"


def as_stranger_patient_id(as_stranger) -> int:
    from oauth2_provider.models import AccessToken

    return AccessToken.objects.get(token=as_stranger.token).user.patient.pk


def test_an_unknown_patient_id_is_refused_like_a_strangers(as_stranger, open_slot):
    refused = as_stranger.post("Appointment", booking(open_slot().pk, 987654))
    assert refused.status_code == 403


def test_a_read_only_token_cannot_book_and_a_patient_only_token_cannot_list_visits(
    fhir, token_for, guardian, child, open_slot
):
    read_only = fhir(token_for(guardian, "patient/Patient.r patient/Appointment.rs"))
    assert read_only.get("Appointment").status_code == 200
    refused = read_only.post("Appointment", booking(open_slot().pk, child.pk))
    assert refused.status_code == 403 and "patient/Appointment.cu" in outcome_text(refused)
    patient_only = fhir(token_for(guardian, "patient/Patient.r"))
    assert patient_only.get("Appointment").status_code == 403
    assert fhir(token_for(guardian, "patient/Appointment.rs")).get("Patient").status_code == 403


def test_expired_and_wrong_audience_tokens_are_refused(fhir, token_for, guardian):
    assert fhir(token_for(guardian, seconds=-1)).get("Patient").status_code == 401
    elsewhere = fhir(token_for(guardian, resource="https://other.example/fhir")).get("Patient")
    assert elsewhere.status_code == 401 and "resource" in outcome_text(elsewhere)
    unbound = fhir(token_for(guardian, resource=None)).get("Patient")
    assert unbound.status_code == 401
    assert fhir("not-a-token").get("Patient").status_code == 401


def test_a_token_of_another_app_of_the_same_user_works_but_only_as_that_app(
    fhir, token_for, guardian, child, other_app, open_slot
):
    mine = fhir(token_for(guardian, application=other_app))
    first = mine.post("Appointment", booking(open_slot().pk, child.pk), request_id="r-1")
    assert first.status_code == 201
    # The same request id from another app is another request (keys are per client).
    again = fhir(token_for(guardian)).post(
        "Appointment", booking(open_slot().pk, guardian.patient.pk), request_id="r-1"
    )
    assert again.status_code == 201 and again.body["id"] != first.body["id"]


def test_a_guardian_books_her_child_replays_safely_and_cancels(as_guardian, child, open_slot):
    slot = open_slot()
    created = as_guardian.post("Appointment", booking(slot.pk, child.pk), request_id="req-42")
    assert created.status_code == 201
    assert created["Location"].endswith(f"/Appointment/{created.body['id']}")
    assert created.body["status"] == "booked"
    assert created.body["participant"][0]["actor"]["reference"] == f"Patient/{child.pk}"

    replay = as_guardian.post("Appointment", booking(slot.pk, child.pk), request_id="req-42")
    assert replay.status_code == 200 and replay.body["id"] == created.body["id"]
    reused = as_guardian.post("Appointment", booking(open_slot().pk, child.pk), request_id="req-42")
    assert reused.status_code == 422
    assert Appointment.objects.filter(patient=child).count() == 1

    listed = as_guardian.get("Appointment", {"patient": f"Patient/{child.pk}", "status": "booked"})
    assert [e["resource"]["id"] for e in listed.body["entry"]] == [created.body["id"]]

    cancelled = as_guardian.patch_cancel(created.body["id"])
    assert cancelled.status_code == 200 and cancelled.body["status"] == "cancelled"
    slot.refresh_from_db()
    assert slot.status == "free"
    twice = as_guardian.patch_cancel(created.body["id"])
    assert twice.status_code == 409
    assert outcome_text(twice) == str(ERRORS["cancel_not_active"])


def test_refusals_carry_the_pages_russian_text_and_status(
    as_guardian, guardian, child, stranger, open_slot
):
    taken = open_slot()
    AppointmentFactory(slot=taken, patient=stranger.patient)
    taken.status = "booked"
    taken.save()
    response = as_guardian.post("Appointment", booking(taken.pk, child.pk))
    assert response.status_code == 409 and outcome_text(response) == str(ERRORS["slot_taken"])

    assert as_guardian.post("Appointment", booking(open_slot().pk, child.pk)).status_code == 201
    second = as_guardian.post("Appointment", booking(open_slot().pk, child.pk))
    assert second.status_code == 422 and outcome_text(second) == str(ERRORS["same_specialty"])

    missing = as_guardian.post("Appointment", booking(99999999, child.pk))
    assert missing.status_code == 404


def test_a_child_of_14_is_not_booked_from_a_parents_token(fhir, token_for, guardian, open_slot):
    today = timezone.localdate()
    teen = ChildFactory(
        birth_date=today.replace(year=today.year - 15), clinic=guardian.patient.clinic
    )
    GuardianshipFactory(guardian=guardian.patient, child=teen)
    response = fhir(token_for(guardian)).post("Appointment", booking(open_slot().pk, teen.pk))
    assert response.status_code == 422
    assert outcome_text(response) == BookingRefused("child_too_old").message


def test_an_update_other_than_cancelling_is_refused(as_guardian, child, open_slot):
    created = as_guardian.post("Appointment", booking(open_slot().pk, child.pk)).body
    moved = {**created, "start": (timezone.now() + datetime.timedelta(days=9)).isoformat()}
    assert as_guardian.put(f"Appointment/{created['id']}", moved).status_code == 422
    cancelled = {**created, "status": "cancelled"}
    answer = as_guardian.put(f"Appointment/{created['id']}", cancelled)
    assert answer.status_code == 200 and answer.body["status"] == "cancelled"


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        "null",
        '{"resourceType": "Patient"}',
        '{"resourceType": "Appointment", "slot": "Slot/1"}',
        '{"resourceType": "Appointment", "slot": [{"reference": 5}], "participant": {}}',
        '{"resourceType": "Appointment", "slot": [{"reference": "Slot/1"}], "participant": [1]}',
        '{"resourceType": "Appointment", "slot": [{"reference": "Slot/99999999999999999999"}]}',
        "[" * 5000 + "]" * 5000,
        '{"a": "\\ud800"}',
    ],
)
def test_hostile_bodies_are_4xx_never_5xx(as_guardian, client, body):
    for method, path in (("post", "/fhir/Appointment"), ("put", "/fhir/Appointment/1")):
        response = getattr(client, method)(
            path,
            body,
            content_type="application/fhir+json",
            HTTP_AUTHORIZATION=f"Bearer {as_guardian.token}",
        )
        assert 400 <= response.status_code < 500, (method, response.content[:200])


def test_a_body_of_another_media_type_is_415(as_guardian, client):
    response = client.post(
        "/fhir/Appointment", "slot=1", content_type="text/plain",
        HTTP_AUTHORIZATION=f"Bearer {as_guardian.token}",
    )  # fmt: skip
    assert response.status_code == 415


def test_rate_limits_count_per_token(fhir, token_for, guardian, settings):
    settings.RATE_API_TOKEN = "3/m"
    first = fhir(token_for(guardian))
    for _ in range(3):
        assert first.get("Patient").status_code == 200
    limited = first.get("Patient")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "Слишком много запросов" in outcome_text(limited)
    assert fhir(token_for(guardian)).get("Patient").status_code == 200, "another token"


def test_bookings_share_the_sites_per_user_limit(
    fhir, token_for, guardian, child, settings, open_slot
):
    settings.RATE_BOOKING_USER = "1/m"
    client = fhir(token_for(guardian))
    assert client.post("Appointment", booking(open_slot().pk, child.pk)).status_code == 201
    assert client.post("Appointment", booking(open_slot().pk, child.pk)).status_code == 429


def test_a_portal_session_is_no_token(client, guardian, child):
    """The API never reads the session cookie: a logged-in browser is anonymous here."""
    client.force_login(guardian)
    assert client.get("/fhir/Patient").status_code == 401
    assert client.get(f"/fhir/Patient/{child.pk}").status_code == 401


def test_a_slot_held_for_another_patient_is_a_conflict_with_the_pages_text(
    as_guardian, child, stranger, open_slot
):
    held = open_slot()
    assert slot_hold(
        slot_id=held.pk,
        patient_id=stranger.patient.pk,
        until=timezone.now() + datetime.timedelta(hours=1),
    )

    response = as_guardian.post("Appointment", booking(held.pk, child.pk))

    assert response.status_code == 409 and outcome_text(response) == str(ERRORS["slot_held"])
