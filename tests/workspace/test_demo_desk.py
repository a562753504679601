"""The demo's children's clinic desk: its clerk finds Мария by policy, moves her visit and
confirms a waiting guardianship (docs/workspace.md, «Trying it with make run»)."""

import uuid

import pytest
from django.utils import timezone

from portal.demo import desk, schedules, staff
from portal.identity.models import User
from portal.scheduling.models import Appointment
from tests.workspace.conftest import verified_client


@pytest.fixture
def desk_loaded(demo_region):
    schedules.load(scale=1, log=lambda _: None)
    staff.load(scale=1, log=lambda _: None)
    desk.load(scale=1, log=lambda _: None)
    desk.load(scale=1, log=lambda _: None)  # a re-run adds nobody and books nothing twice


@pytest.mark.django_db
def test_the_childrens_clinic_clerk_finds_maria_moves_her_and_confirms_a_parent(desk_loaded):
    clerk = User.objects.get(username="registrator-dp1")
    browser = verified_client(clerk)
    found = browser.get("/workspace/patients/", {"policy": desk.MARIA_POLICY}).content.decode()
    assert "Иванова Мария Ивановна" in found
    maria = Appointment.objects.get(patient__policy_number=desk.MARIA_POLICY, status="booked")
    assert maria.slot.doctor.clinic.short_name == desk.CLINIC
    waiting = browser.get("/workspace/guardianships/").content.decode()
    assert "Смирнова Ирина" in waiting and "Орлова Наталья" in waiting
    assert Appointment.objects.filter(patient__policy_number=desk.MARIA_POLICY).count() == 1
    day = timezone.localtime(maria.starts_at).date().isoformat()
    page = browser.get(f"/workspace/appointments/{maria.pk}/move/", {"date": day})
    assert page.status_code == 200
    slot = page.context["slots"][0]
    response = browser.post(
        f"/workspace/appointments/{maria.pk}/move/",
        {"slot": slot.pk, "idempotency_key": str(uuid.uuid4())},
    )
    assert response.status_code == 302
    assert Appointment.objects.get(slot=slot, status="booked").patient_id == maria.patient_id
