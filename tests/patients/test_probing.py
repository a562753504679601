"""Guessing other people's ids costs the guesser, not the victim (docs/security.md).

Before: 200 switch attempts into a stranger's child in 16 s, each a 404 and a row in
the child's journal that the parents read.
"""

from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from portal.audit.models import AuditEvent
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _refused_rows(child) -> int:
    return AuditEvent.objects.filter(action="patient.access_refused", patient=child).count()


def test_two_hundred_switches_into_a_strangers_child_are_cut_off_and_journaled_once(
    client, stranger, child, settings
):
    settings.RATE_REFUSAL_USER = "10/10m"
    client.force_login(stranger)
    statuses = [
        client.post(reverse("patients:acting_switch"), {"patient": child.pk}).status_code
        for _ in range(200)
    ]
    assert statuses[:10] == [404] * 10
    assert set(statuses[10:]) == {429}
    refused = client.post(reverse("patients:acting_switch"), {"patient": child.pk})
    assert "Слишком много запросов" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    assert _refused_rows(child) == 1, "the parents' journal shows the attempt once"


def test_probing_journal_urls_is_limited_too(client, stranger, child, settings):
    settings.RATE_REFUSAL_USER = "3/10m"
    client.force_login(stranger)
    url = reverse("journal:page", args=[child.pk])
    assert [client.get(url).status_code for _ in range(5)] == [404, 404, 404, 429, 429]
    assert _refused_rows(child) == 1


def test_many_accounts_behind_one_address_share_the_refusal_budget(child, settings):
    settings.RATE_REFUSAL_USER, settings.RATE_REFUSAL_IP = "100/10m", "4/10m"
    statuses = []
    for _ in range(3):
        browser = Client(REMOTE_ADDR="198.51.100.20")
        browser.force_login(PatientFactory().user)
        statuses += [
            browser.post(reverse("patients:acting_switch"), {"patient": child.pk}).status_code
            for _ in range(2)
        ]
    assert statuses == [404, 404, 404, 404, 429, 429]
    assert _refused_rows(child) == 2, "one row per prober; the third was stopped before"


def test_a_guardian_switching_back_and_forth_is_never_limited(client, guardian, child, settings):
    settings.RATE_REFUSAL_USER = "2/10m"
    client.force_login(guardian)
    for _ in range(20):
        assert (
            client.post(reverse("patients:acting_switch"), {"patient": child.pk}).status_code == 302
        )
        assert client.get(reverse("journal:page", args=[child.pk])).status_code == 200
        own = guardian.patient.pk
        assert client.post(reverse("patients:acting_switch"), {"patient": own}).status_code == 302


def test_a_refusal_an_hour_later_is_journaled_again(client, stranger, child):
    client.force_login(stranger)
    client.post(reverse("patients:acting_switch"), {"patient": child.pk})
    # The journal is append-only (rows cannot be back-dated): shrink the hour instead.
    with mock.patch("portal.audit.selectors.REFUSAL_RECORD_INTERVAL", timedelta(0)):
        client.post(reverse("patients:acting_switch"), {"patient": child.pk})
    assert _refused_rows(child) == 2
