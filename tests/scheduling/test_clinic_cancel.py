"""The clinic's side of booking state: the admin cannot break it, the clinic's cancellation
goes through the booking service (docs/concurrency.md, «Writers»)."""

import datetime

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse

from portal.audit.models import AuditAction, AuditEvent
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Appointment, Slot
from portal.scheduling.services import (
    appointment_book,
    appointment_cancel,
    appointment_cancel_by_clinic,
)
from tests.factories import AppointmentFactory, ClinicFactory, DoctorFactory, SlotFactory
from tests.scheduling.conftest import in_days, key
from tests.workspace.conftest import verified_client


@pytest.fixture
def staff(clerk):
    """The clerk of the patients' clinic, with every permission on scheduling models."""
    clerk.user_permissions.set(Permission.objects.filter(content_type__app_label="scheduling"))
    return clerk


@pytest.fixture
def as_staff(staff):
    """An admin session as the staff login leaves it: password and TOTP code."""
    return verified_client(staff)


@pytest.fixture
def appointment(patient, slot):
    return appointment_book(
        actor=patient, patient=patient.patient, slot_id=slot.pk, idempotency_key=key()
    ).appointment


def states(appointment) -> tuple[str, str]:
    appointment.refresh_from_db()
    appointment.slot.refresh_from_db()
    return appointment.status, appointment.slot.status


def refusal(**kwargs) -> BookingRefused:
    with pytest.raises(BookingRefused) as info:
        appointment_cancel_by_clinic(**kwargs)
    return info.value


# --- the admin is no back door --------------------------------------------------------


def test_staff_cannot_edit_add_or_delete_appointments_in_the_admin(as_staff, appointment):
    change = reverse("admin:scheduling_appointment_change", args=[appointment.pk])
    assert as_staff.get(change).status_code == 200  # they may look
    edited = as_staff.post(change, {"status": "cancelled_patient", "_save": "Сохранить"})
    assert edited.status_code == 403
    assert as_staff.get(reverse("admin:scheduling_appointment_add")).status_code == 403
    delete = reverse("admin:scheduling_appointment_delete", args=[appointment.pk])
    assert as_staff.post(delete, {"post": "yes"}).status_code == 403
    bulk = as_staff.post(
        reverse("admin:scheduling_appointment_changelist"),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [appointment.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert states(appointment) == (Appointment.Status.BOOKED, Slot.Status.BOOKED)


def test_staff_cannot_free_or_block_a_slot_in_the_admin(as_staff, appointment):
    slot = appointment.slot
    change = reverse("admin:scheduling_slot_change", args=[slot.pk])
    assert as_staff.get(change).status_code == 200
    assert as_staff.post(change, {"status": "free", "_save": "Сохранить"}).status_code == 403
    assert as_staff.get(reverse("admin:scheduling_slot_add")).status_code == 403
    delete = reverse("admin:scheduling_slot_delete", args=[slot.pk])
    assert as_staff.post(delete, {"post": "yes"}).status_code == 403
    assert states(appointment) == (Appointment.Status.BOOKED, Slot.Status.BOOKED)


def test_the_admin_action_asks_for_a_reason_then_cancels_through_the_service(
    as_staff, staff, appointment
):
    changelist = reverse("admin:scheduling_appointment_changelist")
    chosen = {"action": "cancel_by_clinic", ACTION_CHECKBOX_NAME: [appointment.pk]}
    asked = as_staff.post(changelist, chosen)
    assert asked.status_code == 200
    assert "Причина отмены" in asked.content.decode()
    assert states(appointment) == (Appointment.Status.BOOKED, Slot.Status.BOOKED)

    empty = as_staff.post(changelist, {**chosen, "apply": "yes", "reason": "  "})
    assert "Укажите причину отмены" in empty.content.decode()
    assert states(appointment) == (Appointment.Status.BOOKED, Slot.Status.BOOKED)

    done = as_staff.post(
        changelist, {**chosen, "apply": "yes", "reason": "Врач на курсах"}, follow=True
    )
    assert "Отменена 1 запись." in done.content.decode()
    assert states(appointment) == (Appointment.Status.CANCELLED_CLINIC, Slot.Status.FREE)
    event = AuditEvent.objects.get(action=AuditAction.APPOINTMENT_CANCELLED_BY_CLINIC)
    assert (event.user, event.patient) == (staff, appointment.patient)
    assert event.details["reason"] == "Врач на курсах"


def test_the_admin_action_closes_the_time_when_the_doctor_is_absent(as_staff, appointment):
    as_staff.post(
        reverse("admin:scheduling_appointment_changelist"),
        {
            "action": "cancel_by_clinic",
            ACTION_CHECKBOX_NAME: [appointment.pk],
            "apply": "yes",
            "reason": "Больничный врача",
            "doctor_absent": "on",
        },
    )
    assert states(appointment) == (Appointment.Status.CANCELLED_CLINIC, Slot.Status.BLOCKED)


def test_a_clerk_sees_and_cancels_only_their_own_clinics_appointments(
    client, other_clerk, appointment
):
    other_clerk.user_permissions.set(
        Permission.objects.filter(content_type__app_label="scheduling")
    )
    page = (
        verified_client(other_clerk)
        .get(reverse("admin:scheduling_appointment_changelist"))
        .content.decode()
    )
    assert appointment.ticket_number not in page
    refused = refusal(actor=other_clerk, appointment=appointment, reason="Ошибка")
    assert refused.code == "clinic_cancel_foreign"
    assert "другую медицинскую организацию" in refused.message
    assert states(appointment) == (Appointment.Status.BOOKED, Slot.Status.BOOKED)


def test_a_citizen_cannot_cancel_as_the_clinic(stranger, appointment):
    assert refusal(actor=stranger, appointment=appointment, reason="x").code == (
        "clinic_cancel_foreign"
    )


# --- the service ----------------------------------------------------------------------


def test_a_clinic_cancellation_frees_the_slot_for_the_next_patient(staff, stranger, appointment):
    cancelled = appointment_cancel_by_clinic(
        actor=staff, appointment=appointment, reason="Врач на курсах", ip="10.0.0.7"
    )
    assert cancelled.status == Appointment.Status.CANCELLED_CLINIC
    assert cancelled.cancelled_at is not None
    event = AuditEvent.objects.get(action=AuditAction.APPOINTMENT_CANCELLED_BY_CLINIC)
    assert event.ip == "10.0.0.7" and event.details["slot_freed"] is True
    again = appointment_book(
        actor=stranger,
        patient=stranger.patient,
        slot_id=appointment.slot_id,
        idempotency_key=key(),
    )
    assert again.created


def test_an_already_cancelled_appointment_is_refused_in_russian(staff, patient, appointment):
    appointment_cancel(actor=patient, appointment=appointment)
    refused = refusal(actor=staff, appointment=appointment, reason="Врач на курсах")
    assert refused.code == "cancel_not_active"
    assert refused.message == "Эта запись уже отменена или закрыта."
    assert not AuditEvent.objects.filter(
        action=AuditAction.APPOINTMENT_CANCELLED_BY_CLINIC
    ).exists()


def test_a_past_appointment_is_refused_in_russian(staff, patient, doctor):
    past = AppointmentFactory(
        patient=patient.patient,
        slot__doctor=doctor,
        slot__starts_at=in_days(-1),
        slot__ends_at=in_days(-1) + datetime.timedelta(minutes=20),
    )
    refused = refusal(actor=staff, appointment=past, reason="Врач на курсах")
    assert refused.code == "clinic_cancel_past"
    assert "Приём уже начался или прошёл" in refused.message
    assert states(past) == (Appointment.Status.BOOKED, Slot.Status.BOOKED)


def test_a_reason_is_required(staff, appointment):
    assert refusal(actor=staff, appointment=appointment, reason=" ").code == (
        "clinic_cancel_no_reason"
    )


def test_the_regional_operator_may_cancel_at_any_clinic(admin_user, patient):
    elsewhere = SlotFactory(doctor=DoctorFactory(clinic=ClinicFactory()))
    booked = appointment_book(
        actor=patient, patient=patient.patient, slot_id=elsewhere.pk, idempotency_key=key()
    ).appointment
    appointment_cancel_by_clinic(actor=admin_user, appointment=booked, reason="Закрытие")
    assert states(booked) == (Appointment.Status.CANCELLED_CLINIC, Slot.Status.FREE)


def test_the_patient_reads_the_clinics_reason_on_the_ticket(client, patient, staff, appointment):
    appointment_cancel_by_clinic(actor=staff, appointment=appointment, reason="Врач на курсах")
    client.force_login(patient)
    ticket = client.get(
        reverse("scheduling:appointment_ticket", args=[appointment.pk])
    ).content.decode()
    assert "Отменена поликлиникой: Врач на курсах" in ticket
    assert "Отменить запись" not in ticket


def test_rules_and_absences_are_view_only_in_the_admin(as_staff, slot):
    """A rule or an absence saved in the admin would skip the preview and the clinic's
    cancellations: they are changed in the workspace (docs/workspace.md)."""
    from portal.scheduling.models import Absence, ScheduleRule

    rule = ScheduleRule.objects.create(doctor=slot.doctor)
    absence = Absence.objects.create(
        doctor=slot.doctor, kind="sick", starts_on=in_days(30).date(), ends_on=in_days(30).date()
    )
    for name, obj in (("schedulerule", rule), ("absence", absence)):
        assert as_staff.get(reverse(f"admin:scheduling_{name}_add")).status_code == 403
        change = reverse(f"admin:scheduling_{name}_change", args=[obj.pk])
        assert as_staff.post(change, {"kind": "vacation", "weekdays": "1"}).status_code == 403
        delete = reverse(f"admin:scheduling_{name}_delete", args=[obj.pk])
        assert as_staff.post(delete, {"post": "yes"}).status_code == 403
    assert ScheduleRule.objects.filter(pk=rule.pk, weekdays="12345").exists()
    assert Absence.objects.filter(pk=absence.pk, kind="sick").exists()
