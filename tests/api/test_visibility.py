"""Issue 24, point 1: the API follows the pages' one rule of visibility.

A stranger who added a child by hand (an unverified guardianship) may book for the
child but sees only what he booked himself: through the API as on «Мои записи», the
ticket, the `.ics` and the journal. Before the fix the Appointment search (plain,
``patient=``, ``_id=``) answered the mother's appointment to him.
"""

import pytest

from tests.api.conftest import booking
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mothers(guardian, child):
    return AppointmentFactory(patient=child, booked_by=guardian)


@pytest.fixture
def as_newcomer(fhir, token_for, unverified_guardian):
    return fhir(token_for(unverified_guardian))


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.content[:300]
    return {e["resource"]["id"] for e in response.body.get("entry", [])}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"patient": "{child}"},
        {"patient": "Patient/{child}"},
        {"_id": "{appointment}"},
        {"patient": "{child}", "status": "booked"},
        {"date": "ge2000-01-01"},
    ],
    ids=["plain", "patient", "patient-reference", "_id", "patient+status", "date"],
)
def test_a_newcomer_does_not_find_the_mothers_appointment_by_any_search(
    as_newcomer, mothers, child, params
):
    query = {
        key: value.format(child=child.pk, appointment=mothers.pk) for key, value in params.items()
    }
    assert str(mothers.pk) not in _ids(as_newcomer.get("Appointment", query))


def test_a_newcomer_finds_what_he_booked_himself_and_nothing_else(
    as_newcomer, unverified_guardian, mothers, child, open_slot
):
    booked = as_newcomer.post("Appointment", booking(open_slot().pk, child.pk))
    assert booked.status_code == 201, booked.content
    mine = booked.body["id"]
    assert _ids(as_newcomer.get("Appointment")) == {mine}
    assert _ids(as_newcomer.get("Appointment", {"patient": child.pk})) == {mine}
    assert as_newcomer.get(f"Appointment/{mine}").status_code == 200
    assert as_newcomer.get(f"Appointment/{mothers.pk}").status_code == 404


def test_the_mother_still_sees_everything_of_her_child(fhir, token_for, guardian, mothers, child):
    as_mother = fhir(token_for(guardian))
    assert str(mothers.pk) in _ids(as_mother.get("Appointment", {"patient": child.pk}))
    assert str(mothers.pk) in _ids(as_mother.get("Appointment", {"_id": mothers.pk}))


def test_a_newcomer_does_not_read_the_familys_contacts_from_the_childs_record(
    as_newcomer, fhir, token_for, guardian, child
):
    child.phone, child.email = "+79990001122", "mother@example.ru"
    child.save(update_fields=["phone", "email"])
    assert "telecom" not in as_newcomer.get(f"Patient/{child.pk}").body
    found = as_newcomer.get("Patient", {"_id": child.pk}).body["entry"]
    assert [e["resource"].get("telecom") for e in found] == [None]
    assert "telecom" in fhir(token_for(guardian)).get(f"Patient/{child.pk}").body


def test_the_api_reads_appointments_only_through_the_one_rule():
    """No module of the API queries appointments itself: a new search path that forgot
    the rule is what issue 24 found."""
    from pathlib import Path

    import portal.api

    offenders = [
        path.name
        for path in Path(portal.api.__file__).parent.glob("*.py")
        if "Appointment.objects" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
