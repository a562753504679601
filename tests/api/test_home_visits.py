"""Home visits as FHIR Task (docs/home-visits.md, «For an integrator»): the same rules
and refusals as the pages; every answer is checked to be valid R4 (fhir.resources)."""

import pytest

from portal.home_visits import services
from portal.home_visits.models import HomeVisit
from tests.api.conftest import home_visit_task, outcome_text
from tests.factories import DoctorFactory
from tests.home_visits.conftest import valid_data

pytestmark = pytest.mark.django_db


def test_a_guardian_creates_a_task_and_follows_it_to_the_doctor(
    fhir, token_for, guardian, child, clerk
):
    api = fhir(token_for(guardian))
    created = api.post("Task", home_visit_task(child.pk))
    assert created.status_code == 201, created.content
    task = created.body
    assert task["status"] == "requested" and task["for"]["reference"] == f"Patient/{child.pk}"
    assert created["Location"].endswith(f"/Task/{task['id']}")
    visit = HomeVisit.objects.get(pk=task["id"])
    assert visit.applicant == guardian and visit.intercom == "12#345"

    doctor = DoctorFactory(clinic=child.clinic, area="5")
    import datetime

    services.visit_accept(
        actor=clerk,
        visit_id=visit.pk,
        ip=None,
        doctor_id=doctor.pk,
        start=datetime.time(10),
        end=datetime.time(13),
    )
    read = api.get(f"Task/{visit.pk}").body
    assert read["status"] == "in-progress"
    assert read["owner"]["display"] == doctor.full_name
    assert read["executionPeriod"]["start"].startswith(f"{visit.day.isoformat()}T10:00")
    found = api.get("Task", {"status": "in-progress", "patient": f"Patient/{child.pk}"}).body
    assert [e["resource"]["id"] for e in found["entry"]] == [str(visit.pk)]


@pytest.mark.parametrize(
    ("change", "status", "text"),
    [
        ({"red-flag": "convulsions"}, 422, "103"),
        ({"address": "<script>"}, 422, "Укажите адрес"),
        ({"phone": "12"}, 422, "Укажите телефон"),
        ({"consent": None}, 422, "согласие"),
    ],
)
def test_the_rules_refuse_in_russian(fhir, token_for, guardian, child, change, status, text):
    body = home_visit_task(child.pk)
    inputs = body["input"]
    for code, value in change.items():
        inputs = [i for i in inputs if i["type"]["coding"][0]["code"] != code]
        if code == "red-flag":
            system = body["input"][0]["type"]["coding"][0]["system"]
            inputs.append(
                {
                    "type": {"coding": [{"system": system, "code": code}]},
                    "valueCoding": {"code": value},
                }
            )
        elif value is not None:
            system = body["input"][0]["type"]["coding"][0]["system"]
            inputs.append(
                {"type": {"coding": [{"system": system, "code": code}]}, "valueString": value}
            )
    body["input"] = inputs
    answer = fhir(token_for(guardian)).post("Task", body)
    assert answer.status_code == status and text in outcome_text(answer)
    assert not HomeVisit.objects.exists()


def test_one_open_request_is_a_409(fhir, token_for, guardian, child):
    services.visit_create(actor=guardian, patient=child, data=valid_data(), ip=None)
    answer = fhir(token_for(guardian)).post("Task", home_visit_task(child.pk))
    assert answer.status_code == 409 and "уже есть действующий вызов" in outcome_text(answer)


@pytest.mark.parametrize(
    "body",
    [
        {"resourceType": "Appointment"},
        {"resourceType": "Task", "status": "completed", "for": {"reference": "Patient/1"}},
        {"resourceType": "Task", "for": {"reference": "Practitioner/1"}},
        {"resourceType": "Task", "for": {"reference": "Patient/1"}, "input": "address"},
        {"resourceType": "Task", "for": {"reference": "Patient/1"}, "input": [{"type": 1}]},
        {"resourceType": "Task", "for": {"reference": "Patient/²"}},
    ],
)
def test_malformed_tasks_are_a_400(fhir, token_for, guardian, body):
    answer = fhir(token_for(guardian)).post("Task", body)
    assert answer.status_code == 400 and answer.body["resourceType"] == "OperationOutcome"


def test_without_the_task_scope_nothing_is_read_or_made(fhir, token_for, guardian, child):
    api = fhir(token_for(guardian, scope="patient/Patient.r"))
    assert api.get("Task").status_code == 403
    assert api.post("Task", home_visit_task(child.pk)).status_code == 403
