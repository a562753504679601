"""FHIR: the patient's referrals as ServiceRequest, a booking by one (Appointment.basedOn),
and the site's refusals as OperationOutcome (docs/api.md, docs/referrals.md)."""

import pytest

from portal.referrals.models import Referral
from tests.api.conftest import booking, outcome_text
from tests.referrals.conftest import days_from_today

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(fhir, token_for, guardian):
    return fhir(token_for(guardian))


def test_the_childs_referrals_read_as_service_requests_with_status_and_validity(
    api, child, clerk, make_referral
):
    active = make_referral(child)
    expired = make_referral(child, issued_on=days_from_today(-40), valid_until=days_from_today(-1))
    found = api.get("ServiceRequest", {"patient": f"Patient/{child.pk}"})
    assert found.status_code == 200
    by_id = {e["resource"]["id"]: e["resource"] for e in found.body["entry"]}
    resource = by_id[str(active.pk)]
    assert resource["intent"] == "order" and resource["status"] == "active"
    assert resource["identifier"][0]["value"] == active.number
    assert resource["occurrencePeriod"] == {
        "start": active.issued_on.isoformat(),
        "end": active.valid_until.isoformat(),
    }
    assert resource["performerType"]["text"] == "Невролог"
    assert by_id[str(expired.pk)]["status"] == "revoked"
    only_active = api.get("ServiceRequest", {"status": "active"})
    assert [e["resource"]["id"] for e in only_active.body["entry"]] == [str(active.pk)]
    assert api.get(f"ServiceRequest/{active.pk}").body["id"] == str(active.pk)


def test_a_stranger_reads_none_of_marias_referrals(fhir, token_for, stranger, child, make_referral):
    referral = make_referral(child)
    api = fhir(token_for(stranger))
    assert api.get(f"ServiceRequest/{referral.pk}").status_code == 404
    assert api.get("ServiceRequest").body.get("entry", []) == []


def test_a_booking_based_on_a_referral_uses_it_and_names_it(api, child, neuro_slot, make_referral):
    make_referral(child, valid_until=days_from_today(3))
    chosen = make_referral(child, valid_until=days_from_today(20))
    body = booking(neuro_slot.pk, child.pk) | {
        "basedOn": [{"reference": f"ServiceRequest/{chosen.pk}"}]
    }
    created = api.post("Appointment", body)
    assert created.status_code == 201
    assert created.body["basedOn"] == [{"reference": f"ServiceRequest/{chosen.pk}"}]
    chosen.refresh_from_db()
    assert chosen.status == "used" and str(chosen.appointment_id) == created.body["id"]
    listed = api.get("Appointment", {"_id": created.body["id"]})
    assert listed.body["entry"][0]["resource"]["basedOn"][0]["reference"].endswith(str(chosen.pk))


def test_without_a_referral_the_api_refuses_as_the_site_does(api, child, neuro_slot):
    refused = api.post("Appointment", booking(neuro_slot.pk, child.pk))
    assert refused.status_code == 422  # a rule refused (docs/api.md)
    assert refused.body["resourceType"] == "OperationOutcome"
    assert "Направление выдаёт участковый врач" in outcome_text(refused)


def test_based_on_someone_elses_referral_is_refused_and_left_alone(
    api, child, stranger, neuro_slot, make_referral
):
    make_referral(child)
    theirs = make_referral(stranger.patient)
    body = booking(neuro_slot.pk, child.pk) | {
        "basedOn": [{"reference": f"ServiceRequest/{theirs.pk}"}]
    }
    refused = api.post("Appointment", body)
    assert refused.status_code == 422  # a rule refused (docs/api.md)
    assert Referral.objects.get(pk=theirs.pk).status == "active"
    malformed = api.post(
        "Appointment", booking(neuro_slot.pk, child.pk) | {"basedOn": [{"reference": "Slot/1"}]}
    )
    assert malformed.status_code == 400


def test_a_token_without_the_referral_scope_reads_no_referrals(fhir, token_for, guardian):
    api = fhir(token_for(guardian, "patient/Patient.r patient/Appointment.rs"))
    refused = api.get("ServiceRequest")
    assert refused.status_code == 403 and "patient/ServiceRequest.rs" in outcome_text(refused)
