"""Personal data, adding and removing children, acting for a child, the journal."""

import datetime

import pytest
from django.contrib.auth.signals import user_logged_in
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.patients.models import Guardianship, InsuredPerson, Patient
from portal.patients.rules import is_over_child_age
from portal.patients.selectors import (
    ACTING_SESSION_KEY,
    patient_booking_refusal,
)
from portal.patients.validators import enp_control_digit
from tests.factories import ClinicFactory, InsuranceCompanyFactory, PatientFactory, born
from tests.shown import shown

pytestmark = pytest.mark.django_db

MARIA_ENP = "3802020202020212"
PETR_ENP = "3803030303030316"
ADD_URL = reverse("patients:relative_add")
UNKNOWN_ENP = "389999999999999" + str(enp_control_digit("389999999999999"))
MARIA_BORN = born(11, 30)
PETR_BORN = born(7, 164)
MARIA_BORN_TEXT = MARIA_BORN.strftime("%d.%m.%Y")


@pytest.fixture
def children_clinic(db):
    return ClinicFactory(short_name="Детская поликлиника № 1", kind="children")


def _insured(clinic, **values):
    defaults = {
        "policy_kind": "3",
        "policy_series": "",
        "insurer": InsuranceCompanyFactory(),
        "clinic": clinic,
        "area": "7",
        "middle_name": "",
    }
    return InsuredPerson.objects.create(**{**defaults, **values})


@pytest.fixture
def registry(children_clinic):
    """Мария and Пётр Ивановы as the territorial fund knows them."""
    maria = _insured(
        children_clinic,
        policy_number=MARIA_ENP,
        last_name="Иванова",
        first_name="Мария",
        middle_name="Ивановна",
        birth_date=MARIA_BORN,
        sex="F",
    )
    petr = _insured(
        children_clinic,
        policy_number=PETR_ENP,
        last_name="Иванов",
        first_name="Пётр",
        middle_name="Иванович",
        birth_date=PETR_BORN,
        sex="M",
    )
    return {"maria": maria, "petr": petr}


def maria_form(**changes):
    data = {
        "last_name": "Иванова",
        "first_name": "Мария",
        "middle_name": "Ивановна",
        "birth_date": MARIA_BORN_TEXT,
        "sex": "F",
        "relation": "daughter",
        "policy_series": "",
        "policy_number": MARIA_ENP,
    }
    return {**data, **changes}


def test_guardian_adds_a_child_and_sees_her_in_the_relatives_list(client, guardian, registry):
    client.force_login(guardian)
    response = client.post(ADD_URL, maria_form())
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Иванова Мария Ивановна добавлена в список" in page
    assert ">Дочь</td>" in page and f">{MARIA_BORN_TEXT}</td>" in page and MARIA_ENP in page
    child = Patient.objects.get(policy_number=MARIA_ENP)
    # Insurer and attachment come from the registry, never typed.
    assert child.clinic.short_name == "Детская поликлиника № 1"
    assert child.area == "7" and child.insurer is not None and child.user is None
    assert AuditEvent.objects.filter(patient=child, action="relative.added").count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"birth_date": f"{born(14):%d.%m.%Y}"}, "birth_date", "уже исполнилось 14 лет"),
        ({"birth_date": f"{born(-1):%d.%m.%Y}"}, "birth_date", "не может быть в будущем"),
        ({"birth_date": "31.02.2015"}, "birth_date", "ДД.ММ.ГГГГ"),
        ({"relation": "son"}, "relation", "«Сын» не совпадает с полом «Женский»"),
        ({"policy_number": "3802020202020213"}, "policy_number", "контрольная"),
        ({"policy_number": "38020202020202"}, "policy_number", "16 цифр"),
        ({"policy_number": "38020202O2020212"}, "policy_number", "только цифры"),
        ({"first_name": "Марина"}, "policy_number", "не совпадают"),
        ({"birth_date": f"{born(11, 29):%d.%m.%Y}"}, "policy_number", "не совпадают"),
        ({"sex": "M", "relation": "son"}, "sex", "Пол не совпадает с данными полиса"),
        ({"policy_series": "ABCDEFGHIJK", "policy_number": "1"}, "policy_series", "10 символов"),
        ({"last_name": ""}, "last_name", "Обязательное поле"),
        ({"policy_number": ""}, "policy_number", "Обязательное поле"),
    ],
)
def test_each_broken_rule_is_a_message_at_its_field(
    client, guardian, registry, changes, field, fragment
):
    client.force_login(guardian)
    response = client.post(ADD_URL, maria_form(**changes))
    assert response.status_code == 400
    form = response.context["form"]
    assert any(fragment in message for message in form.errors[field]), form.errors
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    assert "aria-invalid" in html
    assert not Guardianship.objects.exists()


def test_names_compare_ignoring_case_spacing_and_yo(client, guardian, registry):
    client.force_login(guardian)
    form = maria_form(
        last_name=" иванов ",
        first_name="ПЕТР",
        middle_name="иванович",
        birth_date=PETR_BORN.isoformat(),
        sex="M",
        relation="son",
        policy_number=PETR_ENP,
    )
    assert client.post(ADD_URL, form).status_code == 302
    assert guardian.patient.wards.get().child.first_name == "Пётр"


def test_old_format_and_temporary_policies_are_accepted(client, guardian, children_clinic):
    old = _insured(
        children_clinic,
        policy_kind="1",
        policy_series="3805",
        policy_number="654321",
        last_name="Смирнов",
        first_name="Олег",
        birth_date=born(10, 200),
        sex="M",
    )
    temporary = _insured(
        children_clinic,
        policy_kind="2",
        policy_number="123456789",
        last_name="Смирнова",
        first_name="Ольга",
        birth_date=born(9, 150),
        sex="F",
    )
    client.force_login(guardian)
    for person, relation in ((old, "son"), (temporary, "daughter")):
        data = maria_form(
            last_name=person.last_name,
            first_name=person.first_name,
            middle_name="",
            birth_date=person.birth_date.isoformat(),
            sex=person.sex,
            relation=relation,
            policy_series=person.policy_series,
            policy_number=person.policy_number,
        )
        assert client.post(ADD_URL, data).status_code == 302
    kinds = set(guardian.patient.wards.values_list("child__policy_kind", flat=True))
    assert kinds == {"1", "2"}


def test_a_stranger_cannot_attach_a_child_by_guessing_policy_numbers(client, stranger, registry):
    client.force_login(stranger)
    # Right number, a guessed name: the same answer as for a number that does not exist,
    # so guessing does not even tell which numbers are real.
    guessed = client.post(ADD_URL, maria_form(first_name="Анна"))
    unknown = client.post(ADD_URL, maria_form(policy_number=UNKNOWN_ENP))
    assert (
        guessed.context["form"].errors["policy_number"]
        == (unknown.context["form"].errors["policy_number"])
    )
    assert not Guardianship.objects.exists()


def test_one_guardian_cannot_add_the_same_child_twice(client, guardian, registry):
    client.force_login(guardian)
    client.post(ADD_URL, maria_form())
    response = client.post(ADD_URL, maria_form())
    assert "уже есть в вашем списке" in response.context["form"].errors["policy_number"][0]
    assert guardian.patient.wards.count() == 1


def test_both_parents_hold_the_same_child(client, guardian, registry):
    father = PatientFactory(first_name="Иван", middle_name="Сергеевич", sex="M").user
    for parent in (guardian, father):
        client.force_login(parent)
        assert client.post(ADD_URL, maria_form()).status_code == 302
    child = Patient.objects.get(policy_number=MARIA_ENP)
    assert set(child.guardians.values_list("guardian__user", flat=True)) == {
        guardian.pk,
        father.pk,
    }


def test_children_from_gosuslugi_are_added_in_one_click(client, guardian, registry):
    own = guardian.patient
    own.esia_kids = [
        {
            "id": "7001",
            "last_name": "Иванова",
            "first_name": "Мария",
            "middle_name": "Ивановна",
            "birth_date": MARIA_BORN.isoformat(),
            "sex": "F",
            "policy_kind": "3",
            "policy_series": "",
            "policy_number": MARIA_ENP,
        },
        {
            "id": "7009",
            "last_name": "Иванов",
            "first_name": "Неизвестный",
            "middle_name": "",
            "birth_date": born(8, 330).isoformat(),
            "sex": "M",
            "policy_kind": "3",
            "policy_series": "",
            "policy_number": UNKNOWN_ENP,
        },
    ]
    own.save()
    client.force_login(guardian)
    page = client.get(ADD_URL).content.decode()
    assert "Добавить: Иванова Мария Ивановна" in page
    url = reverse("patients:relative_add_esia")
    assert client.post(url, {"kid": "7001"}).status_code == 302
    assert own.wards.get().source == Guardianship.Source.ESIA
    assert "Добавить: Иванова Мария" not in client.get(ADD_URL).content.decode()
    # A kid the registry does not confirm is refused with the reason, not added.
    response = client.post(url, {"kid": "7009"}, follow=True)
    assert "Не удалось добавить ребёнка из Госуслуг" in response.content.decode()
    assert own.wards.count() == 1


def test_removing_a_relative_ends_the_guardianship_but_keeps_the_records(client, guardian, child):
    guardianship = child.guardians.get()
    client.force_login(guardian)
    client.post(reverse("patients:acting_switch"), {"patient": child.pk})
    response = client.post(reverse("patients:relative_remove", args=[guardianship.pk]))
    assert response.status_code == 302
    guardianship.refresh_from_db()
    assert guardianship.ended_at is not None
    assert Patient.objects.filter(pk=child.pk).exists()
    assert ACTING_SESSION_KEY not in client.session
    assert child.short_name not in client.get(reverse("patients:personal")).content.decode()


def test_a_stranger_cannot_remove_someone_elses_child(client, stranger, child):
    guardianship = child.guardians.get()
    client.force_login(stranger)
    response = client.post(reverse("patients:relative_remove", args=[guardianship.pk]))
    assert response.status_code == 404
    guardianship.refresh_from_db()
    assert guardianship.ended_at is None


def test_guardian_switches_into_the_child_and_back(client, guardian, child):
    client.force_login(guardian)
    menu = client.get(reverse("identity:cabinet")).content.decode()
    assert "Иванова М.И." in menu and "Добавить родственника" in menu
    client.post(reverse("patients:acting_switch"), {"patient": child.pk})
    page = client.get(reverse("identity:cabinet")).content.decode()
    assert "Вы в кабинете ребёнка: <strong>Иванова Мария Ивановна</strong>" in page
    client.post(reverse("patients:acting_switch"), {"patient": guardian.patient.pk})
    assert "Вы в кабинете ребёнка" not in client.get(reverse("identity:cabinet")).content.decode()
    actions = list(AuditEvent.objects.values_list("action", flat=True).order_by("id"))
    assert actions == ["acting.started", "acting.ended"]


def test_user_b_cannot_act_for_user_as_child_and_the_attempt_is_journaled(
    client, guardian, child, stranger
):
    client.force_login(stranger)
    response = client.post(reverse("patients:acting_switch"), {"patient": child.pk})
    assert response.status_code == 404
    assert client.get(reverse("journal:page", args=[child.pk])).status_code == 404
    assert ACTING_SESSION_KEY not in client.session
    refused = AuditEvent.objects.filter(action="patient.access_refused", patient=child)
    # One row per prober and patient per hour, however many attempts (docs/security.md).
    assert refused.count() == 1 and refused.first().user == stranger

    # The guardian sees the attempt in the child's journal, without the stranger's name.
    client.force_login(guardian)
    journal = client.get(reverse("journal:page", args=[child.pk])).content.decode()
    assert "Попытка доступа отклонена" in journal and "Другой пользователь" in journal
    assert "Петров" not in journal


def test_the_journal_is_visible_to_the_patient_and_each_guardian(client, guardian, child):
    father = PatientFactory(first_name="Иван", sex="M").user
    Guardianship.objects.create(
        guardian=father.patient, child=child, relation="daughter", verified_at=timezone.now()
    )
    client.force_login(father)
    client.post(reverse("patients:acting_switch"), {"patient": child.pk})
    client.force_login(guardian)
    journal = client.get(reverse("journal:page", args=[child.pk])).content.decode()
    assert "Вход в кабинет ребёнка" in journal and father.patient.short_name in journal
    own = client.get(reverse("journal:page", args=[guardian.patient.pk]))
    assert own.status_code == 200


def test_a_child_who_turned_14_stays_listed_but_cannot_be_booked_for(
    client, guardian, child, settings
):
    today = timezone.localdate()
    child.birth_date = today.replace(year=today.year - settings.CHILD_MAX_AGE)
    child.save()
    assert is_over_child_age(child, today)
    assert not is_over_child_age(child, today - datetime.timedelta(days=1))
    refusal = patient_booking_refusal(guardian.patient, child)
    assert refusal is not None and "Госуслуг" in refusal
    assert patient_booking_refusal(guardian.patient, guardian.patient) is None

    client.force_login(guardian)
    page = client.get(reverse("patients:personal")).content.decode()
    assert "Уже исполнилось 14 лет" in page and child.full_name in page
    client.post(reverse("patients:acting_switch"), {"patient": child.pk})
    assert (
        "записаться к врачу от имени ребёнка"
        in client.get(reverse("identity:cabinet")).content.decode()
    )


def test_login_fills_insurer_and_attachment_from_the_registry(children_clinic):
    insured = _insured(
        children_clinic,
        policy_number="3801010101010126",
        last_name="Иванова",
        first_name="Анна",
        middle_name="Петровна",
        birth_date=born(38, 262),
        sex="F",
        area="5",
    )
    matching = PatientFactory(
        policy_number=insured.policy_number, insurer=None, clinic=None, area=""
    )
    other = PatientFactory(
        first_name="Ольга", policy_number="3806060606060618", insurer=None, clinic=None, area=""
    )
    request = RequestFactory().get("/")
    for patient in (matching, other):
        user_logged_in.send(sender=type(patient.user), request=request, user=patient.user)
        patient.refresh_from_db()
    assert (matching.clinic, matching.area) == (children_clinic, "5")
    assert matching.insurer == insured.insurer
    assert other.clinic is None and other.insurer is None


def test_a_user_without_a_policy_enters_it_on_personal_data(client, children_clinic):
    user = PatientFactory(
        last_name="Смирнова",
        first_name="Елена",
        middle_name="Викторовна",
        birth_date=born(54, 305),
        policy_kind="",
        policy_number="",
        insurer=None,
        clinic=None,
        area="",
    ).user
    _insured(
        children_clinic,
        policy_number="3806060606060618",
        last_name="Смирнова",
        first_name="Елена",
        middle_name="Викторовна",
        birth_date=born(54, 305),
        sex="F",
        area="11",
    )
    client.force_login(user)
    url = reverse("patients:personal")
    wrong = client.post(url, {"policy_number": "3801010101010126"})
    assert "не найден в регистре" in wrong.context["form"].errors["policy_number"][0]
    assert client.post(url, {"policy_number": "3806060606060618"}).status_code == 302
    page = client.get(url).content.decode()
    assert "3806060606060618" in page and shown("Детская поликлиника № 1") in page
    assert "Укажите свой полис ОМС" not in page


def test_visitors_see_the_cabinet_button_not_the_menu(client):
    page = client.get(reverse("core:home")).content.decode()
    assert "Личный кабинет" in page and "account-menu" not in page
    assert client.get(reverse("patients:personal")).status_code == 302
