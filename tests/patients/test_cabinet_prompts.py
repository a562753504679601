"""Issue 16, items 4, 16 and 18: the relatives form starts from the parent's own data, a
missing OMS policy is asked for before booking, and a child's cabinet says which links
are the parent's."""

import pytest
from django.urls import reverse

from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _act_for(client, user, patient) -> str:
    client.force_login(user)
    client.post(reverse("patients:acting_switch"), {"patient": patient.pk})
    return client.get(reverse("identity:cabinet")).content.decode()


def test_adding_a_relative_shows_the_parents_personal_data_first(client, guardian):
    own = guardian.patient
    client.force_login(guardian)
    page = client.get(reverse("patients:relative_add")).content.decode()
    assert 'id="own-title">Личные данные<' in page
    facts = page.index('id="own-title"')
    form = page.index("Данные ребёнка")
    assert facts < form
    for value in (own.policy_number, own.insurer.name, own.clinic.short_name):
        assert facts < page.index(f"<dd>{value}</dd>") < form


@pytest.fixture
def uninsured(db):
    return PatientFactory(policy_number="", insurer=None).user


def test_a_patient_without_a_policy_is_prompted_in_the_cabinet(client, uninsured):
    client.force_login(uninsured)
    page = client.get(reverse("identity:cabinet")).content.decode()
    assert "Не указан полис ОМС" in page
    assert f'href="{reverse("patients:personal")}">Указать полис' in page


def test_the_wizard_does_not_let_a_patient_without_a_policy_start(client, uninsured):
    client.force_login(uninsured)
    page = client.get(reverse("scheduling:booking_start")).content.decode()
    assert "Не указан полис ОМС" in page
    assert f'href="{reverse("patients:personal")}">Указать полис' in page


def test_a_patient_with_a_policy_gets_no_prompt(client, patient):
    client.force_login(patient)
    assert "Не указан полис ОМС" not in client.get(reverse("identity:cabinet")).content.decode()
    assert (
        "Не указан полис ОМС"
        not in client.get(reverse("scheduling:booking_start")).content.decode()
    )


def test_a_childs_cabinet_says_the_relatives_links_are_the_parents(client, guardian, child):
    page = _act_for(client, guardian, child)
    assert "Ваши личные данные и родственники" in page
    assert "Добавить родственника (к вашей учётной записи)" in page
    own = client.post(reverse("patients:acting_switch"), {"patient": guardian.patient.pk})
    assert own.status_code == 302
    page = client.get(reverse("identity:cabinet")).content.decode()
    assert "Ваши личные данные" not in page and "Личные данные и родственники" in page
