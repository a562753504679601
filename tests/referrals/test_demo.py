"""`make run`'s referrals: Мария's to «Детский невролог», Анна's to «Кардиолог» and an
expired one, and a clerk of «Детская поликлиника № 1» who issues more."""

import pytest

from portal.demo import referrals as demo
from portal.referrals.models import Referral
from portal.referrals.rules import referral_state
from portal.staff.models import StaffMember
from tests.referrals.conftest import days_from_today

pytestmark = pytest.mark.django_db


def test_the_demo_gives_maria_and_anna_their_referrals_once(demo_region, settings):
    settings.ESIA_EMULATOR_ENABLED = True
    for _ in range(2):  # idempotent
        demo.load(scale=1, log=lambda _: None)
    maria = Referral.objects.get(patient__first_name="Мария")
    assert maria.specialty.name == "Детский невролог"
    assert referral_state(maria, days_from_today(0)) == "active"
    assert maria.issuer_clinic.short_name == "Детская поликлиника № 1"
    anna = Referral.objects.filter(patient__first_name="Анна", patient__esia_oid__isnull=False)
    states = sorted(referral_state(r, days_from_today(0)) for r in anna)
    assert states == ["active", "expired"]
    assert {r.specialty.name for r in anna} == {"Кардиолог"}
    clerk = StaffMember.objects.get(user__username="referrals-registrator")
    assert clerk.user.clinic.short_name == "Детская поликлиника № 1"
