"""A clerk confirms a guardianship a parent made by hand, after seeing the documents
(issue 13). Only the clinic the child is attached to confirms; the journal of the child
and of the guardian says so; the guardian then sees the child in full."""

import pytest
from django.test import Client
from django.urls import reverse

from portal.audit.models import AuditAction, AuditEvent
from portal.patients.models import Guardianship
from tests.factories import ChildFactory, GuardianshipFactory, PatientFactory

LIST = reverse("workspace:guardianship_list")


@pytest.fixture
def unverified(home_clinic) -> Guardianship:
    """The unverified guardian persona: a father who typed his daughter's data himself."""
    father = PatientFactory(last_name="Новиков", first_name="Олег", sex="M")
    daughter = ChildFactory(last_name="Новикова", first_name="Вера", clinic=home_clinic)
    return GuardianshipFactory(guardian=father, child=daughter, verified_at=None, verified_how="")


def _confirm_url(guardianship: Guardianship) -> str:
    return reverse("workspace:guardianship_confirm", args=[guardianship.pk])


@pytest.mark.django_db
def test_the_clerk_of_the_childs_clinic_confirms_and_both_journals_say_so(
    as_staff, clerk, unverified
):
    father = Client()
    father.force_login(unverified.guardian.user)
    assert "Не подтверждено" in father.get(reverse("patients:personal")).content.decode()
    browser = as_staff(clerk)
    page = browser.get(LIST).content.decode()
    assert "Новикова Вера" in page and "Новиков Олег" in page
    response = browser.post(_confirm_url(unverified), {"documents_seen": "1"}, follow=True)
    assert "подтверждён(а) как законный представитель" in response.content.decode()
    unverified.refresh_from_db()
    assert unverified.is_verified and unverified.verified_how == Guardianship.Verification.CLINIC
    assert unverified.verified_by == clerk
    journals = AuditEvent.objects.filter(action=AuditAction.GUARDIANSHIP_CONFIRMED, user=clerk)
    assert set(journals.values_list("patient_id", flat=True)) == {
        unverified.child_id,
        unverified.guardian_id,
    }
    # Confirmed ones leave the list.
    assert "Новикова Вера" not in browser.get(LIST).content.decode()
    # The guardian reads it in their own journal, and now sees the child in full.
    journal = father.get(reverse("journal:page", args=[unverified.guardian_id]))
    assert "подтверждён медицинской организацией" in journal.content.decode()
    personal = father.get(reverse("patients:personal")).content.decode()
    assert "Не подтверждено" not in personal


@pytest.mark.django_db
def test_without_the_documents_box_nothing_is_confirmed(as_staff, clerk, unverified):
    response = as_staff(clerk).post(_confirm_url(unverified), {}, follow=True)
    assert "Отметьте, что вы видели документ" in response.content.decode()
    unverified.refresh_from_db()
    assert not unverified.is_verified


@pytest.mark.django_db
def test_another_clinic_sees_nothing_and_the_operator_is_told_who_confirms(
    as_staff, other_clerk, operator, unverified
):
    other = as_staff(other_clerk)
    assert "Новикова" not in other.get(LIST).content.decode()
    assert other.post(_confirm_url(unverified), {"documents_seen": "1"}).status_code == 404

    region = as_staff(operator)
    assert "Новикова Вера" in region.get(LIST).content.decode()
    response = region.post(_confirm_url(unverified), {"documents_seen": "1"}, follow=True)
    assert "Подтверждает регистратура поликлиники" in response.content.decode()
    unverified.refresh_from_db()
    assert not unverified.is_verified


@pytest.mark.django_db
def test_the_head_of_the_clinic_confirms_too(as_staff, head, unverified):
    as_staff(head).post(_confirm_url(unverified), {"documents_seen": "1"})
    unverified.refresh_from_db()
    assert unverified.is_verified


@pytest.mark.django_db
def test_an_ended_guardianship_is_404_and_bad_ids_too(as_staff, clerk, unverified):
    from django.utils import timezone

    Guardianship.objects.filter(pk=unverified.pk).update(ended_at=timezone.now())
    browser = as_staff(clerk)
    assert browser.post(_confirm_url(unverified), {"documents_seen": "1"}).status_code == 404
    assert browser.post("/workspace/guardianships/999999/confirm/").status_code == 404
    assert browser.get(_confirm_url(unverified)).status_code == 405


@pytest.mark.django_db
def test_a_workspace_clerk_without_the_admin_flag_confirms(as_staff, home_clinic, unverified):
    """The demo's clerks (`make run`) have a role but no ``is_staff``: the role decides."""
    from portal.staff.models import StaffMember
    from tests.factories import UserFactory

    desk = UserFactory(username="desk", esia_oid=None, is_staff=False, clinic=home_clinic)
    StaffMember.objects.create(user=desk, role=StaffMember.Role.CLERK)
    as_staff(desk).post(_confirm_url(unverified), {"documents_seen": "1"})
    unverified.refresh_from_db()
    assert unverified.is_verified and unverified.verified_by == desk
