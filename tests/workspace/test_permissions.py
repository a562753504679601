"""One permission module decides what each staff role sees (portal/workspace/permissions.py)."""

import pytest
from django.http import Http404

from portal.staff.permissions import clinic_scope_for, doctor_get_for_staff
from portal.workspace.permissions import appointment_get_for_staff, staff_may_see_patient
from tests.factories import AppointmentFactory, ClinicFactory, DoctorFactory, PatientFactory


@pytest.mark.django_db
def test_a_clerk_and_a_head_see_their_clinic_and_the_operator_every_clinic(
    clerk, head, operator, other_clerk, home_clinic, patient
):
    elsewhere = ClinicFactory()
    assert list(clinic_scope_for(clerk)) == [home_clinic]
    assert list(clinic_scope_for(head)) == [home_clinic]
    assert set(clinic_scope_for(operator)) >= {home_clinic, elsewhere}
    assert home_clinic not in clinic_scope_for(other_clerk)
    assert not clinic_scope_for(patient).exists()


@pytest.mark.django_db
def test_a_patient_is_visible_only_with_an_appointment_or_attachment_at_the_clinic(
    clerk, other_clerk, operator, patient, home_clinic
):
    unrelated = PatientFactory(clinic=None)
    assert staff_may_see_patient(clerk, patient.patient)  # attached to home_clinic
    assert not staff_may_see_patient(other_clerk, patient.patient)
    assert not staff_may_see_patient(clerk, unrelated)
    assert not staff_may_see_patient(operator, unrelated)

    other_doctor = DoctorFactory(clinic=other_clerk.staff_member.clinic)
    AppointmentFactory(patient=unrelated, slot__doctor=other_doctor)
    assert staff_may_see_patient(other_clerk, unrelated)
    assert staff_may_see_patient(operator, unrelated)
    assert not staff_may_see_patient(clerk, unrelated)


@pytest.mark.django_db
def test_another_clinics_doctor_or_appointment_is_not_found(clerk, other_clerk, home_clinic):
    doctor = DoctorFactory(clinic=home_clinic)
    appointment = AppointmentFactory(slot__doctor=doctor)
    assert doctor_get_for_staff(clerk, doctor.pk) == doctor
    assert appointment_get_for_staff(clerk, appointment.pk) == appointment
    with pytest.raises(Http404):
        doctor_get_for_staff(other_clerk, doctor.pk)
    with pytest.raises(Http404):
        appointment_get_for_staff(other_clerk, appointment.pk)


@pytest.mark.django_db
def test_a_deactivated_staff_account_loses_its_scope(clerk):
    clerk.is_active = False
    clerk.save()
    assert not clinic_scope_for(clerk).exists()
