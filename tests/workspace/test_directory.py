"""The operator edits the directory with validated forms; other staff are told who does."""

import pytest

from portal.audit.models import AuditAction, AuditEvent
from portal.directory.models import Clinic, Doctor, Specialty
from tests.factories import AppointmentFactory, ClinicFactory, DoctorFactory, SpecialtyFactory


@pytest.mark.django_db
def test_the_operator_adds_a_specialty_and_the_journal_records_it(operator, as_staff):
    browser = as_staff(operator)
    assert browser.get("/workspace/directory/specialty/").status_code == 200
    response = browser.post(
        "/workspace/directory/specialty/new/",
        {"code": "cardiologist", "name": "Кардиолог", "access": "direct", "age_group": "adults"},
    )
    assert response.status_code == 302
    specialty = Specialty.objects.get(code="cardiologist")
    assert AuditEvent.objects.filter(
        action=AuditAction.DIRECTORY_CHANGED, user=operator, details__object=specialty.pk
    ).exists()


@pytest.mark.django_db
def test_an_adult_specialty_is_refused_at_a_childrens_clinic(operator, as_staff):
    clinic = ClinicFactory(kind=Clinic.Kind.CHILDREN)
    adults = SpecialtyFactory(age_group=Specialty.AgeGroup.ADULTS)
    response = as_staff(operator).post(
        "/workspace/directory/doctor/new/",
        {"clinic": clinic.pk, "specialty": adults.pk, "last_name": "Новиков",
         "first_name": "Пётр", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Детская поликлиника: выберите специальность для детей" in response.content.decode()
    assert not Doctor.objects.filter(last_name="Новиков").exists()


@pytest.mark.django_db
def test_a_doctor_with_bookings_is_not_switched_off_silently(operator, as_staff, home_clinic):
    doctor = DoctorFactory(clinic=home_clinic)
    AppointmentFactory(slot__doctor=doctor)
    response = as_staff(operator).post(
        f"/workspace/directory/doctor/{doctor.pk}/",
        {"clinic": home_clinic.pk, "specialty": doctor.specialty_id,
         "last_name": doctor.last_name, "first_name": doctor.first_name},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Сначала запишите отсутствие врача" in response.content.decode()
    doctor.refresh_from_db()
    assert doctor.is_active


@pytest.mark.django_db
def test_a_clerk_and_a_head_are_told_the_operator_keeps_the_directory(clerk, head, as_staff):
    for user in (clerk, head):
        response = as_staff(user).get("/workspace/directory/clinic/")
        assert response.status_code == 403
        assert "ведёт региональный оператор" in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_directory_section_is_not_found(operator, as_staff):
    assert as_staff(operator).get("/workspace/directory/patients/").status_code == 404
