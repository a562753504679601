"""Issue 16, items 6, 13 and 15: texts agree with the child's sex, removal asks first,
and the birth date is typed and shown as ДД.ММ.ГГГГ."""

import datetime

import pytest
from django.urls import reverse

from portal.patients.forms import RelativeForm
from portal.patients.models import Guardianship
from tests.factories import ChildFactory, GuardianshipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def son(guardian, home_clinic):
    kid = ChildFactory(
        clinic=home_clinic,
        first_name="Пётр",
        middle_name="Иванович",
        last_name="Иванов",
        sex="M",
        policy_number="3803030303030316",
    )
    GuardianshipFactory(guardian=guardian.patient, child=kid, relation=Guardianship.Relation.SON)
    return kid


def _act_for(client, user, patient) -> str:
    client.force_login(user)
    client.post(reverse("patients:acting_switch"), {"patient": patient.pk})
    return client.get(reverse("identity:cabinet")).content.decode()


def test_the_banner_of_a_daughters_cabinet_says_for_her(client, guardian, child):
    page = _act_for(client, guardian, child)
    assert "делаются для неё" in page
    assert "для него" not in page


def test_the_banner_of_a_sons_cabinet_says_for_him(client, guardian, son):
    page = _act_for(client, guardian, son)
    assert "делаются для него" in page


def test_removing_a_child_asks_first_and_removes_only_after_yes(client, guardian, child):
    guardianship = child.guardians.get()
    url = reverse("patients:relative_remove", args=[guardianship.pk])
    client.force_login(guardian)
    personal = client.get(reverse("patients:personal")).content.decode()
    # The list links to the question; no form there removes the child at one click.
    assert f'href="{url}"' in personal
    assert f'action="{url}"' not in personal

    question = client.get(url)
    assert question.status_code == 200
    page = question.content.decode()
    assert "Удалить Иванова Мария Ивановна из списка родственников?" in page
    assert "Да, удалить из списка" in page and "Не удалять" in page
    assert "записывать её к врачу" in page
    guardianship.refresh_from_db()
    assert guardianship.ended_at is None

    assert client.post(url).status_code == 302
    guardianship.refresh_from_db()
    assert guardianship.ended_at is not None


def test_the_removal_question_is_a_404_for_someone_elses_child(client, stranger, child):
    client.force_login(stranger)
    url = reverse("patients:relative_remove", args=[child.guardians.get().pk])
    assert client.get(url).status_code == 404


def test_the_birth_date_is_a_text_field_in_the_format_of_gosuslugi(client, guardian):
    client.force_login(guardian)
    page = client.get(reverse("patients:relative_add")).content.decode()
    field = page[page.index('name="birth_date"') - 200 : page.index('name="birth_date"') + 300]
    assert 'type="text"' in field and 'type="date"' not in field
    assert 'inputmode="numeric"' in field and "pattern=" in field
    assert "ДД.ММ.ГГГГ" in page


def test_the_birth_date_is_read_as_dd_mm_yyyy_and_shown_back_the_same_way():
    day = datetime.date.today() - datetime.timedelta(days=365 * 5)
    typed = day.strftime("%d.%m.%Y")
    form = RelativeForm({"birth_date": typed})
    form.is_valid()
    assert form.cleaned_data["birth_date"] == day
    assert f'value="{typed}"' in str(form["birth_date"])
    # An American order is refused with the format the patient must use.
    wrong = RelativeForm({"birth_date": day.strftime("%m/%d/%Y")})
    wrong.is_valid()
    assert "ДД.ММ.ГГГГ" in str(wrong.errors["birth_date"])
