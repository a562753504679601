"""Hostile input that answered 500 (issue 24, point 5): each is a 4xx in the right format
now — an OperationOutcome under /fhir/, the portal's HTML elsewhere."""

import json

import pytest

from tests.api.conftest import booking

pytestmark = pytest.mark.django_db

SUPERSCRIPT = "²"  # str.isdigit() is True, int() refuses it


def _outcome(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/fhir+json")
    body = json.loads(response.content)
    assert body["resourceType"] == "OperationOutcome"
    return body


@pytest.mark.parametrize(
    "path",
    [
        f"/fhir/Organization/{SUPERSCRIPT}",
        f"/fhir/Slot/1{SUPERSCRIPT}",
        f"/fhir/Organization?_count={SUPERSCRIPT}",
        f"/fhir/Organization?_offset={SUPERSCRIPT}",
        f"/fhir/Organization?_id={SUPERSCRIPT}",
        f"/fhir/Slot?schedule=Schedule/{SUPERSCRIPT}",
    ],
)
def test_lookalike_digits_in_public_ids_and_paging_are_not_a_500(client, path):
    response = client.get(path)
    assert response.status_code in (400, 404), response.status_code
    _outcome(response, response.status_code)


def test_lookalike_digits_in_patient_ids_are_not_a_500(client, guardian, token_for):
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token_for(guardian)}"}
    for path in (f"/fhir/Patient/{SUPERSCRIPT}", f"/fhir/Appointment/{SUPERSCRIPT}"):
        response = client.get(path, **bearer)
        _outcome(response, 404)
    response = client.get("/fhir/Appointment", {"patient": SUPERSCRIPT}, **bearer)
    _outcome(response, 400)
    body = booking(1, 1) | {"slot": [{"reference": f"Slot/{SUPERSCRIPT}"}]}
    response = client.post(
        "/fhir/Appointment", json.dumps(body), content_type="application/fhir+json", **bearer
    )
    _outcome(response, 400)


@pytest.mark.parametrize("value", ["ge0001-01-01", "le9999-12-31", "eq0001-01-01", "lt9999-12-31"])
def test_a_date_at_the_edge_of_the_calendar_is_a_400(client, guardian, token_for, value):
    """On SQLite ``ge0001-01-01`` was a 500 (a local midnight of year 1 has no UTC)."""
    response = client.get(
        "/fhir/Appointment",
        {"date": value},
        HTTP_AUTHORIZATION=f"Bearer {token_for(guardian)}",
    )
    _outcome(response, 400)
    _outcome(client.get("/fhir/Slot", {"start": value}), 400)


def test_an_oversize_api_body_gets_an_operation_outcome_not_an_html_page(
    client, guardian, token_for, settings
):
    huge = json.dumps({"resourceType": "Appointment", "padding": "x" * 3_000_000})
    response = client.post(
        "/fhir/Appointment",
        huge,
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {token_for(guardian)}",
    )
    body = _outcome(response, 413)
    assert "слишком большое" in body["issue"][0]["details"]["text"]
    # Above the API's own 64 KB but within Django's limit: the same answer.
    response = client.post(
        "/fhir/Appointment",
        json.dumps({"resourceType": "Appointment", "padding": "x" * 100_000}),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {token_for(guardian)}",
    )
    _outcome(response, 413)
