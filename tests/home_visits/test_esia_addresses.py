"""The addresses ESIA gives at login, offered on the home-visit form
(docs/home-visits.md, «Addresses from ESIA»)."""

import pytest
from django.urls import reverse

from portal.home_visits.models import EsiaAddresses
from portal.identity.models import User
from portal.identity.services import esia_addresses
from tests.identity.test_login_flow import ANNA, login_as_persona


def test_registration_and_actual_addresses_are_kept_in_that_order_and_cleaned():
    raw = [
        {"type": "PRG", "addressStr": "г. Иркутск, мкр. Юбилейный, д. 9", "flat": "112"},
        {"type": "OTHER", "addressStr": "somewhere"},
        {"type": "PLV", "addressStr": "г. Иркутск,\x00 ул. Карла Маркса, д. 14\x1b"},
        {"type": "PLV", "addressStr": "a second registration is ignored"},
        {"type": "PRG"},
    ]
    assert esia_addresses(raw) == [
        {"kind": "registration", "text": "г. Иркутск, ул. Карла Маркса, д. 14", "flat": ""},
        {"kind": "actual", "text": "г. Иркутск, мкр. Юбилейный, д. 9", "flat": "112"},
    ]


@pytest.mark.django_db
def test_annas_login_brings_her_addresses_to_the_form(client, esia_setup):
    login_as_persona(client, ANNA)
    kept = EsiaAddresses.objects.get(patient__user__esia_oid=ANNA)
    assert [a["kind"] for a in kept.addresses] == ["registration", "actual"]
    form = client.get(reverse("home_visits:new")).content.decode()
    assert "ул. Карла Маркса, д. 14" in form and "мкр. Юбилейный, д. 9" in form
    # The first (registration) is in the form already; the second is one link away.
    picked = client.get(
        reverse("home_visits:new")
        + f"?address=1&patient={User.objects.get(esia_oid=ANNA).patient.pk}"
    )
    assert 'value="Иркутская обл., г. Иркутск, мкр. Юбилейный, д. 9"' in picked.content.decode()
    assert 'value="112"' in picked.content.decode()
