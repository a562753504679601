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


@pytest.mark.django_db
def test_editing_a_clinic_saves_its_name_as_typed_though_pages_join_the_number(operator, as_staff):
    # Issue 27, point 8: the list shows «№» joined by a no-break space; the form's field
    # holds the name as stored, so saving the form unchanged changes nothing.
    clinic = ClinicFactory(short_name="Городская поликлиника № 4", full_name="ОГБУЗ «ГП № 4»")
    browser = as_staff(operator)
    listing = browser.get("/workspace/directory/clinic/").content.decode()
    assert "Городская поликлиника №\u00a04" in listing
    form = browser.get(f"/workspace/directory/clinic/{clinic.pk}/").content.decode()
    assert 'value="Городская поликлиника № 4"' in form
    response = browser.post(
        f"/workspace/directory/clinic/{clinic.pk}/",
        {"district": clinic.district_id, "short_name": "Городская поликлиника № 4",
         "full_name": clinic.full_name, "address": clinic.address, "phone": clinic.phone,
         "kind": clinic.kind},
    )  # fmt: skip
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert clinic.short_name == "Городская поликлиника № 4"
    saved = browser.get(response.url).content.decode()
    assert "Сохранено: Городская поликлиника №\u00a04." in saved
