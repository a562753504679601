"""A database outage through the API answers FHIR: OperationOutcome 503 with Retry-After
(issue 24, point 2; the pages' side is tests/core/test_database_outage.py)."""

from unittest import mock

import pytest
from django.db import OperationalError

pytestmark = pytest.mark.django_db


def test_the_api_answers_an_outage_with_an_operation_outcome_not_the_html_page(
    client, guardian, app, token_for
):
    """Before: the FHIR client got the site's HTML 503 page."""
    with mock.patch(
        "portal.api.patient.appointments_visible",
        side_effect=OperationalError("the database did not answer"),
    ):
        response = client.get(
            "/fhir/Appointment", HTTP_AUTHORIZATION=f"Bearer {token_for(guardian)}"
        )
    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "transient"
    assert "Сервис временно недоступен" in body["issue"][0]["details"]["text"]
    assert int(response["Retry-After"]) > 0
