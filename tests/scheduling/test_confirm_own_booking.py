"""The confirm page reached again: her own booking shows her ticket, under the one rule
of visibility; anything else is «занято» or not found."""

import datetime

import pytest
from django.urls import reverse

from tests.factories import AppointmentFactory, DoctorFactory, SlotFactory

pytestmark = pytest.mark.django_db


def _confirm(slot):
    return reverse("scheduling:booking_confirm", args=[slot.pk])


def _act_for(client, user, patient):
    client.force_login(user)
    client.post(reverse("patients:acting_switch"), {"patient": patient.pk})


def test_a_guardian_back_on_the_childs_booked_time_gets_its_ticket(client, guardian, child):
    slot = SlotFactory(doctor=DoctorFactory(clinic=child.clinic), status="booked")
    booked = AppointmentFactory(patient=child, booked_by=guardian, slot=slot)
    _act_for(client, guardian, child)
    response = client.get(_confirm(slot))
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:appointment_ticket", args=[booked.pk])


def test_an_unverified_guardian_does_not_see_the_mothers_booking_for_the_child(
    client, guardian, child, unverified_guardian
):
    """The father may act for the child but sees only what he booked: the time the mother
    booked for her is taken to him, not her ticket."""
    slot = SlotFactory(doctor=DoctorFactory(clinic=child.clinic), status="booked")
    AppointmentFactory(patient=child, booked_by=guardian, slot=slot)
    _act_for(client, unverified_guardian, child)
    response = client.get(_confirm(slot))
    assert response.status_code == 200
    assert "Это время уже занято" in response.content.decode()


def test_a_time_taken_by_a_stranger_is_taken_not_his_ticket(client, patient, stranger):
    slot = SlotFactory(doctor=DoctorFactory(clinic=patient.patient.clinic), status="booked")
    AppointmentFactory(patient=stranger.patient, slot=slot)
    client.force_login(patient)
    response = client.get(_confirm(slot))
    assert response.status_code == 200
    assert "Это время уже занято" in response.content.decode()


def test_a_time_that_does_not_exist_is_not_found(client, patient):
    client.force_login(patient)
    assert client.get(reverse("scheduling:booking_confirm", args=[987_654_321])).status_code == 404


def test_the_confirm_page_tells_what_her_other_appointments_forbid(client, patient):
    """The slot and her active appointments come in one read (docs/performance.md, «The
    confirm page in one read»): the page still refuses the same specialty twice and an
    overlapping time, and lets a free time of another specialty through."""
    clinic = patient.patient.clinic
    held = AppointmentFactory(patient=patient.patient, slot__doctor__clinic=clinic)
    later = held.starts_at + datetime.timedelta(days=1)
    same = SlotFactory(
        doctor=DoctorFactory(clinic=clinic, specialty=held.specialty),
        starts_at=later,
        ends_at=later + datetime.timedelta(minutes=20),
    )
    overlapping = SlotFactory(
        doctor=DoctorFactory(clinic=clinic), starts_at=held.starts_at, ends_at=held.ends_at
    )
    free = SlotFactory(
        doctor=DoctorFactory(clinic=clinic),
        starts_at=later,
        ends_at=later + datetime.timedelta(minutes=20),
    )
    client.force_login(patient)

    assert (
        "уже есть предстоящая запись к этому специалисту"
        in client.get(_confirm(same)).content.decode()
    )
    assert "уже есть другая запись" in client.get(_confirm(overlapping)).content.decode()
    page = client.get(_confirm(free)).content.decode()
    assert "уже есть" not in page and "Записаться" in page
