"""A refusal tells an unverified guardian only what is theirs to know (issue 24, point 4).

Before: acting for a child he added by hand, a stranger learnt the parents' plans from
the refusals — «уже есть предстоящая запись к этому специалисту» gave the specialty, «на
это время уже есть другая запись» the time (the same through the API), and the ballot page
redirected him to the mother's request. The mother, who sees the child in full, is told
everything as before (the controls).
"""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from portal.patients.selectors import ACTING_SESSION_KEY
from portal.release import services as release
from tests.api.conftest import booking
from tests.factories import AppointmentFactory, DoctorFactory, SlotFactory, SpecialtyFactory
from tests.release.conftest import ballot, place  # noqa: F401  (fixtures of the ballot)

pytestmark = pytest.mark.django_db
SPECIALTY_TOLD = "к этому специалисту"
TIME_TOLD = "На это время у пациента уже есть другая запись"
NEUTRAL = "мешает запись, которую сделал другой законный представитель"


@pytest.fixture
def mothers_visit(guardian, child, open_slot):
    return AppointmentFactory(patient=child, booked_by=guardian, slot=open_slot(status="booked"))


@pytest.fixture
def same_specialty_slot(open_slot, mothers_visit):
    return open_slot(starts_at=mothers_visit.starts_at + datetime.timedelta(days=1))


@pytest.fixture
def same_time_slot(home_clinic, mothers_visit):
    other = DoctorFactory(clinic=home_clinic, specialty=SpecialtyFactory(code="ent-t"))
    return SlotFactory(
        doctor=other, starts_at=mothers_visit.starts_at, ends_at=mothers_visit.ends_at
    )


def _acting(user, child) -> Client:
    browser = Client()
    browser.force_login(user)
    session = browser.session
    session[ACTING_SESSION_KEY] = child.pk
    session.save()
    return browser


@pytest.mark.parametrize("slot_fixture", ["same_specialty_slot", "same_time_slot"])
def test_the_booking_page_names_neither_the_specialty_nor_the_time(
    request, unverified_guardian, child, slot_fixture
):
    slot = request.getfixturevalue(slot_fixture)
    page = _acting(unverified_guardian, child).get(
        reverse("scheduling:booking_confirm", args=[slot.pk])
    )
    text = page.content.decode()
    assert NEUTRAL in text
    assert SPECIALTY_TOLD not in text and TIME_TOLD not in text


@pytest.mark.parametrize("slot_fixture", ["same_specialty_slot", "same_time_slot"])
def test_the_api_refusal_names_neither_the_specialty_nor_the_time(
    request, fhir, token_for, unverified_guardian, child, slot_fixture
):
    slot = request.getfixturevalue(slot_fixture)
    refused = fhir(token_for(unverified_guardian)).post("Appointment", booking(slot.pk, child.pk))
    assert refused.status_code >= 400
    text = refused.content.decode()
    assert "conflict_unseen" in text and NEUTRAL in text
    assert SPECIALTY_TOLD not in text and TIME_TOLD not in text


def test_control_the_mother_is_told_the_specialty(guardian, child, same_specialty_slot):
    page = _acting(guardian, child).get(
        reverse("scheduling:booking_confirm", args=[same_specialty_slot.pk])
    )
    assert SPECIALTY_TOLD in page.content.decode()


def test_control_the_mother_is_told_of_the_time_through_the_api(
    fhir, token_for, guardian, child, same_time_slot
):
    refused = fhir(token_for(guardian)).post("Appointment", booking(same_time_slot.pk, child.pk))
    assert "overlap" in refused.content.decode()


def test_the_ballot_page_does_not_lead_to_the_mothers_request(
    guardian,
    unverified_guardian,
    child,
    ballot,  # noqa: F811  (the imported fixture)
):
    mothers = release.request_make(
        actor=guardian, patient=child, ballot=ballot, doctor_ids=[], times="any"
    ).request
    newcomer = _acting(unverified_guardian, child)
    url = reverse("release:request_new", args=[ballot.pk])
    page = newcomer.get(url)
    assert page.status_code == 200  # the form, not a redirect to her request
    refused = newcomer.post(url, {"times": "any"})
    text = refused.content.decode()
    assert str(mothers.pk) not in refused.get("Location", "")
    assert "другой законный" in text and "на другой день" not in text
    assert _acting(guardian, child).get(url)["Location"] == reverse(
        "release:request_detail", args=[mothers.pk]
    )
