"""Every state-changing form needs the CSRF token: a forged cross-site POST is refused."""

import pytest
from django.test import Client
from django.urls import reverse

from portal.scheduling.models import Appointment
from tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db


def test_a_post_without_the_csrf_token_changes_nothing(patient):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(patient)
    appointment = AppointmentFactory(patient=patient.patient)
    slot = SlotFactory()
    forged = [
        browser.post(reverse("scheduling:appointment_cancel", args=[appointment.pk])),
        browser.post(reverse("scheduling:booking_confirm", args=[slot.pk]), {"key": slot.pk}),
        browser.post(reverse("patients:relative_add"), {"last_name": "x"}),
        browser.post(reverse("identity:logout")),
    ]
    assert [response.status_code for response in forged] == [403] * 4
    page = forged[0].content.decode()
    assert "Страница устарела" in page and "отправьте форму ещё раз" in page
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
