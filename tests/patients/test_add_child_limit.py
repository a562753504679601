"""Issue 27, point 4: the typing limit of «Добавить родственника» warns before it locks,
keeps what was typed, and never blocks the one-click addition from Gosuslugi."""

import pytest
from django.urls import reverse

from portal.patients.models import Guardianship
from tests.patients import test_relatives as relatives
from tests.patients.test_relatives import ADD_URL, MARIA_BORN, MARIA_ENP, UNKNOWN_ENP, maria_form

# The registry of tests/patients/test_relatives.py: Мария and Пётр as the fund knows them.
children_clinic = relatives.children_clinic
registry = relatives.registry

pytestmark = pytest.mark.django_db

ESIA_URL = reverse("patients:relative_add_esia")


def _listed_by_esia(own, enp=MARIA_ENP, kid_id="7001"):
    own.esia_kids = [
        {
            "id": kid_id,
            "last_name": "Иванова",
            "first_name": "Мария",
            "middle_name": "Ивановна",
            "birth_date": MARIA_BORN.isoformat(),
            "sex": "F",
            "policy_kind": "3",
            "policy_series": "",
            "policy_number": enp,
        }
    ]
    own.save()


def test_a_failed_match_warns_with_the_attempts_left(client, settings, guardian, registry):
    settings.RATE_RELATIVE_USER = "3/h"
    client.force_login(guardian)
    assert "Осталось попыток" not in client.get(ADD_URL).content.decode()
    page = client.post(ADD_URL, maria_form(policy_number=UNKNOWN_ENP)).content.decode()
    assert "Осталось попыток сверки с регистром: 2." in page
    page = client.post(ADD_URL, maria_form(policy_number=UNKNOWN_ENP)).content.decode()
    assert "Осталось попыток сверки с регистром: 1." in page
    # The warning stays on the page when she comes back to it.
    assert "Осталось попыток сверки с регистром: 1." in client.get(ADD_URL).content.decode()


def test_the_lockout_keeps_what_was_typed(client, settings, guardian, registry):
    settings.RATE_RELATIVE_USER = "1/h"
    client.force_login(guardian)
    client.post(ADD_URL, maria_form(policy_number=UNKNOWN_ENP))
    response = client.post(ADD_URL, maria_form(first_name="Марина"))
    assert response.status_code == 429
    page = response.content.decode()
    assert "Попытки сверки с регистром закончились" in page
    assert 'value="Марина"' in page and f'value="{MARIA_ENP}"' in page
    assert not Guardianship.objects.exists()


def test_the_gosuslugi_addition_works_when_the_typing_budget_is_spent(
    client, settings, guardian, registry
):
    settings.RATE_RELATIVE_USER = "1/h"
    own = guardian.patient
    _listed_by_esia(own)
    client.force_login(guardian)
    client.post(ADD_URL, maria_form(policy_number=UNKNOWN_ENP))
    assert client.post(ADD_URL, maria_form()).status_code == 429
    response = client.post(ESIA_URL, {"kid": "7001"})
    assert response.status_code == 302
    assert own.wards.get().source == Guardianship.Source.ESIA


def test_a_refused_gosuslugi_addition_does_not_spend_the_typing_budget(
    client, settings, guardian, registry
):
    settings.RATE_RELATIVE_USER = "1/h"
    _listed_by_esia(guardian.patient, enp=UNKNOWN_ENP, kid_id="7009")
    client.force_login(guardian)
    for _ in range(3):
        client.post(ESIA_URL, {"kid": "7009"})
    assert "Осталось попыток" not in client.get(ADD_URL).content.decode()
    assert client.post(ADD_URL, maria_form()).status_code == 302
