"""Versions an app can rely on (issue 23): `meta.versionId` and the ETag change with the
appointment, a stale `If-Match` is refused with 412, and the app's cancellation reason is
kept and returned."""

import json

import pytest

from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db


def _put(client, token, appointment_id, body, if_match=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if if_match:
        headers["HTTP_IF_MATCH"] = if_match
    return client.put(
        f"/fhir/Appointment/{appointment_id}",
        json.dumps(body),
        content_type="application/fhir+json",
        **headers,
    )


def _cancel(appointment_id, reason="Уехали на дачу"):
    return {
        "resourceType": "Appointment",
        "id": str(appointment_id),
        "status": "cancelled",
        "cancelationReason": {"text": reason},
    }


def test_a_stale_if_match_is_refused_and_the_current_one_cancels_with_the_reason(
    client, patient, token_for
):
    appointment = AppointmentFactory(patient=patient.patient, booked_by=patient)
    token = token_for(patient)
    read = client.get(f"/fhir/Appointment/{appointment.pk}", HTTP_AUTHORIZATION=f"Bearer {token}")
    etag = read["ETag"]
    assert etag == f'W/"{read.json()["meta"]["versionId"]}"'

    wrong = _put(client, token, appointment.pk, _cancel(appointment.pk), if_match='W/"0000"')
    assert wrong.status_code == 412
    assert wrong.json()["issue"][0]["code"] == "conflict"
    appointment.refresh_from_db()
    assert appointment.status == "booked"

    done = _put(client, token, appointment.pk, _cancel(appointment.pk), if_match=etag)
    assert done.status_code == 200
    assert done["ETag"] != etag
    assert done.json()["cancelationReason"]["text"] == "Уехали на дачу"

    again = _put(client, token, appointment.pk, _cancel(appointment.pk), if_match=etag)
    assert again.status_code == 412  # the version it read is gone


def test_without_if_match_an_update_is_as_before(client, patient, token_for):
    appointment = AppointmentFactory(patient=patient.patient, booked_by=patient)
    response = _put(client, token_for(patient), appointment.pk, _cancel(appointment.pk, ""))
    assert response.status_code == 200
    assert response.json()["cancelationReason"]["text"] == "Отменена пациентом"
