"""Real guardianship: a stranger who knows a child's policy, name and birth date does
not become a full guardian (issue 11, item 1).

Personas: ``mother`` — a verified guardian (ESIA lists the child); ``stranger`` — an
adult who typed the child's data and holds an unverified guardianship; ``newcomer`` —
the father, also unverified until someone vouches for him; the clerks of the child's
clinic and of another clinic.
"""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from portal.audit.models import AuditAction, AuditEvent
from portal.patients.guardianships import guardianship_confirm
from portal.patients.models import Guardianship, InsuredPerson, Patient
from portal.patients.validators import enp_control_digit
from portal.scheduling.models import Appointment
from tests.factories import (
    AppointmentFactory,
    ClinicFactory,
    InsuranceCompanyFactory,
    PatientFactory,
    UserFactory,
)
from tests.workspace.conftest import verified_client

pytestmark = pytest.mark.django_db

BODY = "380404040404040"
CHILD_ENP = BODY + str(enp_control_digit(BODY))
ADD_URL = reverse("patients:relative_add")


def _years_ago(years: int, days: int = 0):
    today = timezone.localdate()
    return today.replace(year=today.year - years) - datetime.timedelta(days=days)


@pytest.fixture
def kids_clinic(db):
    return ClinicFactory(short_name="Детская поликлиника № 5", kind="children")


@pytest.fixture
def insured_child(kids_clinic):
    """Сидорова Алиса, 6, as the registry of insured persons knows her."""
    return InsuredPerson.objects.create(
        policy_kind="3",
        policy_number=CHILD_ENP,
        last_name="Сидорова",
        first_name="Алиса",
        middle_name="Олеговна",
        birth_date=_years_ago(6, days=40),
        sex="F",
        insurer=InsuranceCompanyFactory(),
        clinic=kids_clinic,
        area="3",
    )


def _kid(person: InsuredPerson) -> dict:
    """The child as ESIA's `kids` lists her for her own parent."""
    return {
        "id": "9001",
        "last_name": person.last_name,
        "first_name": person.first_name,
        "middle_name": person.middle_name,
        "birth_date": person.birth_date.isoformat(),
        "sex": person.sex,
        "policy_kind": "3",
        "policy_series": "",
        "policy_number": person.policy_number,
    }


def _form(person: InsuredPerson) -> dict:
    return {
        "last_name": person.last_name,
        "first_name": person.first_name,
        "middle_name": person.middle_name,
        "birth_date": person.birth_date.strftime("%d.%m.%Y"),
        "sex": "F",
        "relation": "daughter",
        "policy_series": "",
        "policy_number": person.policy_number,
    }


@pytest.fixture
def mother(client, insured_child):
    """Сидорова Ольга: ESIA lists Алиса among her children, so she is verified."""
    record = PatientFactory(last_name="Сидорова", first_name="Ольга", middle_name="Ивановна")
    record.esia_kids = [_kid(insured_child)]
    record.save()
    client.force_login(record.user)
    response = client.post(reverse("patients:relative_add_esia"), {"kid": "9001"})
    assert response.status_code == 302
    client.logout()
    return record.user


@pytest.fixture
def alisa(mother) -> Patient:
    return Patient.objects.get(policy_number=CHILD_ENP, user__isnull=True)


@pytest.fixture
def mothers_booking(mother, alisa) -> Appointment:
    return AppointmentFactory(patient=alisa, booked_by=mother)


@pytest.fixture
def stranger_in(client, stranger, insured_child, mother):
    """The attack of the issue: the stranger types the child's data and is let in."""
    client.force_login(stranger)
    assert client.post(ADD_URL, _form(insured_child)).status_code == 302
    return Guardianship.objects.get(guardian=stranger.patient, ended_at__isnull=True)


def test_esia_kids_make_a_verified_guardianship_and_the_form_an_unverified_one(mother, stranger_in):
    mine = Guardianship.objects.get(guardian=mother.patient)
    assert mine.is_verified and mine.verified_how == "esia"
    assert not stranger_in.is_verified and stranger_in.source == "manual"


def test_a_stranger_does_not_see_or_cancel_the_mothers_booking(
    client, stranger, stranger_in, mothers_booking
):
    listing = client.get(reverse("scheduling:appointment_list")).content.decode()
    assert mothers_booking.ticket_number not in listing
    ticket = reverse("scheduling:appointment_ticket", args=[mothers_booking.pk])
    assert client.get(ticket).status_code == 404
    assert (
        client.get(reverse("scheduling:appointment_ics", args=[mothers_booking.pk])).status_code
        == 404
    )
    cancel = reverse("scheduling:appointment_cancel", args=[mothers_booking.pk])
    assert client.post(cancel).status_code == 404
    mothers_booking.refresh_from_db()
    assert mothers_booking.status == Appointment.Status.BOOKED


def test_an_unverified_guardian_sees_what_they_booked_themselves(
    client, stranger, stranger_in, alisa
):
    own = AppointmentFactory(patient=alisa, booked_by=stranger)
    listing = client.get(reverse("scheduling:appointment_list")).content.decode()
    assert own.ticket_number in listing
    assert client.get(reverse("scheduling:appointment_ticket", args=[own.pk])).status_code == 200


def test_the_strangers_journal_names_nobody_and_shows_only_their_own_doings(
    client, mother, stranger, stranger_in, alisa, mothers_booking
):
    AuditEvent.objects.create(
        action=AuditAction.APPOINTMENT_BOOKED,
        user=mother,
        patient=alisa,
        details={"appointment": mothers_booking.pk},
    )
    page = client.get(reverse("journal:page", args=[alisa.pk])).content.decode()
    assert "Сидорова О." not in page and "Ольга" not in page
    assert "Запись к врачу" not in page
    assert "Добавлен(а) в список родственников" in page  # the stranger's own step
    assert "доступ законного представителя ещё не подтверждён" in page


def test_the_mother_is_told_names_the_newcomer_and_revokes_them(
    client, mother, stranger, stranger_in, alisa, insured_child
):
    client.force_login(mother)
    cabinet = client.get(reverse("identity:cabinet")).content.decode()
    assert "К вашему ребёнку добавлен новый законный представитель" in cabinet
    personal = client.get(reverse("patients:personal")).content.decode()
    assert "Новые законные представители" in personal
    assert stranger.patient.short_name in personal and "Отозвать доступ" in personal
    # In the child's journal the unverified newcomer is not named.
    journal = client.get(reverse("journal:page", args=[alisa.pk])).content.decode()
    assert "Другой законный представитель" in journal
    assert stranger.patient.short_name not in journal

    revoke = reverse("patients:guardianship_revoke", args=[stranger_in.pk])
    assert client.post(revoke).status_code == 302
    stranger_in.refresh_from_db()
    assert stranger_in.ended_at is not None and stranger_in.end_reason == "revoked"
    assert stranger_in.ended_by == mother

    client.force_login(stranger)
    assert client.get(reverse("journal:page", args=[alisa.pk])).status_code == 404
    switch = client.post(reverse("patients:acting_switch"), {"patient": alisa.pk})
    assert switch.status_code == 404
    # Revoked stays revoked: adding the child again needs the clinic.
    again = client.post(ADD_URL, _form(insured_child))
    assert again.status_code == 400 and "отозвал ваш доступ" in again.content.decode()
    assert not Guardianship.objects.filter(guardian=stranger.patient, ended_at__isnull=True)


def test_an_unverified_guardian_cannot_revoke_or_approve(
    client, mother, stranger, stranger_in, insured_child
):
    father = PatientFactory(first_name="Олег", sex="M").user
    client.force_login(father)
    assert client.post(ADD_URL, _form(insured_child)).status_code == 302
    fathers = Guardianship.objects.get(guardian=father.patient)
    for name in ("patients:guardianship_revoke", "patients:guardianship_approve"):
        assert client.post(reverse(name, args=[stranger_in.pk])).status_code == 404
        assert client.post(reverse(name, args=[fathers.pk])).status_code == 404
    mine = Guardianship.objects.get(guardian=mother.patient)
    assert client.post(reverse("patients:guardianship_revoke", args=[mine.pk])).status_code == 404
    assert Guardianship.objects.filter(ended_at__isnull=True).count() == 3
    personal = client.get(reverse("patients:personal")).content.decode()
    assert "Не подтверждено" in personal and "Сидорова О." not in personal


def test_the_mother_approves_the_father_who_then_sees_everything(
    client, mother, insured_child, alisa, mothers_booking
):
    father = PatientFactory(last_name="Сидоров", first_name="Олег", sex="M").user
    client.force_login(father)
    client.post(ADD_URL, _form(insured_child))
    fathers = Guardianship.objects.get(guardian=father.patient)
    client.force_login(mother)
    approve = reverse("patients:guardianship_approve", args=[fathers.pk])
    assert client.post(approve).status_code == 302
    fathers.refresh_from_db()
    assert fathers.verified_how == "guardian" and fathers.verified_by == mother
    client.force_login(father)
    ticket = reverse("scheduling:appointment_ticket", args=[mothers_booking.pk])
    assert client.get(ticket).status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.GUARDIANSHIP_APPROVED).count() == 2


def test_the_childs_clinic_confirms_and_another_clinic_cannot(
    mother, stranger_in, alisa, other_clerk
):
    with pytest.raises(PermissionDenied):
        guardianship_confirm(actor=other_clerk, guardianship_id=stranger_in.pk, ip=None)
    clerk = UserFactory(username="kids-clerk", esia_oid=None, is_staff=True, clinic=alisa.clinic)
    guardianship_confirm(actor=clerk, guardianship_id=stranger_in.pk, ip="10.0.0.1")
    stranger_in.refresh_from_db()
    assert stranger_in.verified_how == "clinic" and stranger_in.verified_by == clerk
    with pytest.raises(PermissionDenied):
        guardianship_confirm(actor=mother, guardianship_id=stranger_in.pk, ip=None)


def test_the_admin_action_confirms_through_the_service(client, stranger_in, alisa):
    clerk = UserFactory(username="kids-clerk", esia_oid=None, is_staff=True, clinic=alisa.clinic)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_guardianship", "change_guardianship"])
    )
    response = verified_client(clerk).post(
        reverse("admin:patients_guardianship_changelist"),
        {"action": "confirm_guardianships", "_selected_action": [stranger_in.pk]},
        follow=True,
    )
    assert "Подтверждено законных представителей: 1" in response.content.decode()
    stranger_in.refresh_from_db()
    assert stranger_in.is_verified
    assert AuditEvent.objects.filter(action=AuditAction.GUARDIANSHIP_CONFIRMED).exists()


def test_a_15_year_old_cannot_add_a_6_year_old(client, insured_child):
    teen = PatientFactory(first_name="Кирилл", sex="M", birth_date=_years_ago(15)).user
    client.force_login(teen)
    response = client.post(ADD_URL, _form(insured_child))
    assert response.status_code == 400
    assert "только совершеннолетний" in response.content.decode()
    assert not Guardianship.objects.exists()


def test_a_young_parent_may_add_the_child_esia_lists_for_them(client, insured_child):
    parent = PatientFactory(first_name="Дарья", birth_date=_years_ago(17))
    parent.esia_kids = [_kid(insured_child)]
    parent.save()
    client.force_login(parent.user)
    assert client.post(ADD_URL, _form(insured_child)).status_code == 302
    assert Guardianship.objects.get(guardian=parent).is_verified


def test_a_child_has_a_bounded_number_of_guardians(client, settings, mother, insured_child):
    settings.GUARDIANS_PER_CHILD_MAX = 2
    second = PatientFactory(first_name="Олег", sex="M").user
    client.force_login(second)
    assert client.post(ADD_URL, _form(insured_child)).status_code == 302
    third = PatientFactory(first_name="Игорь", sex="M").user
    client.force_login(third)
    response = client.post(ADD_URL, _form(insured_child))
    assert response.status_code == 400
    assert "максимальное число законных представителей (2)" in response.content.decode()
    assert Guardianship.objects.filter(ended_at__isnull=True).count() == 2


def test_a_login_whose_esia_kids_list_the_child_verifies_a_manual_guardianship(
    rf, stranger_in, insured_child
):
    from django.contrib.auth.signals import user_logged_in

    from portal.patients.models import Patient as PatientModel

    holder = PatientModel.objects.get(pk=stranger_in.guardian_id)
    holder.esia_kids = [_kid(insured_child)]
    holder.save()
    request = rf.get("/")
    user_logged_in.send(sender=type(holder.user), request=request, user=holder.user)
    stranger_in.refresh_from_db()
    assert stranger_in.verified_how == "esia"


def test_an_unverified_guardian_reads_what_happened_to_their_own_booking(
    client, mother, stranger, stranger_in, alisa
):
    import uuid

    from portal.scheduling.services import appointment_book, appointment_cancel
    from tests.factories import SlotFactory

    booked = appointment_book(
        actor=stranger, patient=alisa, slot_id=SlotFactory().pk, idempotency_key=uuid.uuid4()
    )
    other = appointment_book(
        actor=mother, patient=alisa, slot_id=SlotFactory().pk, idempotency_key=uuid.uuid4()
    )
    appointment_cancel(actor=mother, appointment=booked.appointment)
    page = client.get(reverse("journal:page", args=[alisa.pk])).content.decode()
    assert "Запись к врачу" in page and "Отмена записи к врачу" in page
    # The mother cancelled it: shown, but not named to the unverified reader.
    assert "Другой законный представитель" in page and "Сидорова О." not in page
    assert other.appointment.ticket_number not in page
    assert page.count("Запись к врачу") == 1


# --- a namesake is not the child (issue 24, point 8) -----------------------------------


def _namesake(person: InsuredPerson, **ids: str) -> dict:
    """Another child ESIA lists for the stranger: same name and birth date, other ids."""
    return {**_kid(person), "policy_number": "", "policy_series": "", **ids}


def _login(rf, patient):
    from django.contrib.auth.signals import user_logged_in

    user_logged_in.send(sender=type(patient.user), request=rf.get("/"), user=patient.user)


def test_a_namesake_with_another_policy_does_not_verify_a_manual_guardianship(
    rf, stranger_in, insured_child
):
    holder = Patient.objects.get(pk=stranger_in.guardian_id)
    holder.esia_kids = [_namesake(insured_child, policy_number="3899999999999999")]
    holder.save()
    _login(rf, holder)
    stranger_in.refresh_from_db()
    assert not stranger_in.is_verified


def test_a_namesake_with_another_snils_does_not_verify(rf, stranger_in, insured_child, alisa):
    alisa.snils = "112-233-445 95"
    alisa.save()
    holder = Patient.objects.get(pk=stranger_in.guardian_id)
    holder.esia_kids = [_kid(insured_child) | {"snils": "000-000-001 00"}]
    holder.save()
    _login(rf, holder)
    stranger_in.refresh_from_db()
    assert not stranger_in.is_verified


def test_an_esia_kid_with_no_policy_and_no_snils_verifies_nothing(rf, stranger_in, insured_child):
    holder = Patient.objects.get(pk=stranger_in.guardian_id)
    holder.esia_kids = [_namesake(insured_child)]
    holder.save()
    _login(rf, holder)
    stranger_in.refresh_from_db()
    assert not stranger_in.is_verified


def test_typing_the_child_beside_a_namesake_in_esia_gives_an_unverified_guardianship(
    client, insured_child, mother
):
    """The form's own check: ESIA's namesake (another policy) does not vouch for the child
    whose policy was typed."""
    stranger = PatientFactory(last_name="Петров", first_name="Сергей", sex="M")
    stranger.esia_kids = [_namesake(insured_child, policy_number="3899999999999999")]
    stranger.save()
    client.force_login(stranger.user)
    assert client.post(ADD_URL, _form(insured_child)).status_code == 302
    assert not Guardianship.objects.get(guardian=stranger).is_verified


def test_the_same_child_with_the_same_snils_still_verifies(rf, stranger_in, insured_child, alisa):
    """The control: the right identifiers verify, so the tests above fail for the right reason."""
    alisa.snils = "112-233-445 95"
    alisa.save()
    holder = Patient.objects.get(pk=stranger_in.guardian_id)
    holder.esia_kids = [_kid(insured_child) | {"snils": "11223344595"}]
    holder.save()
    _login(rf, holder)
    stranger_in.refresh_from_db()
    assert stranger_in.verified_how == "esia"
