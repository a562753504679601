"""«Направления» in the cabinet: the patient's own and, for a guardian, the child's; who
may see them; the journal shows who issued, used, gave back and cancelled them."""

import uuid

import pytest
from django.urls import reverse

from portal.patients.selectors import ACTING_SESSION_KEY
from portal.referrals.services import referral_cancel
from portal.scheduling.services import appointment_book, appointment_cancel
from tests.referrals.conftest import days_from_today
from tests.shown import shown

pytestmark = pytest.mark.django_db


def act_for(client, user, patient):
    client.force_login(user)
    session = client.session
    session[ACTING_SESSION_KEY] = patient.pk
    session.save()
    return client


def test_the_childs_cabinet_lists_active_first_then_used_expired_and_cancelled(
    client, guardian, child, clerk, neuro_slot, make_referral
):
    expired = make_referral(child, issued_on=days_from_today(-40), valid_until=days_from_today(-2))
    cancelled = make_referral(child)
    referral_cancel(actor=clerk, referral_id=cancelled.pk, reason="Выдано по ошибке", ip=None)
    used = make_referral(child, valid_until=days_from_today(3))
    appointment_book(
        actor=guardian, patient=child, slot_id=neuro_slot.pk, idempotency_key=uuid.uuid4()
    )
    active = make_referral(child)
    page = act_for(client, guardian, child).get(reverse("referrals:list")).content.decode()
    positions = [page.index(f'id="referral-{r.pk}"') for r in (active, used, expired, cancelled)]
    assert positions == sorted(positions)
    assert "Записаться по направлению" in page
    assert "Использовано: запись на" in page
    assert "Срок действия истёк" in page
    assert "Выдано по ошибке" in page


def test_a_stranger_sees_none_of_marias_referrals(client, stranger, child, make_referral):
    referral = make_referral(child)
    client.force_login(stranger)
    assert referral.number not in client.get(reverse("referrals:list")).content.decode()
    assert client.get(reverse("referrals:book", args=[referral.pk])).status_code == 404


def test_an_unverified_guardian_sees_none_of_the_childs_referrals(
    client, unverified_guardian, child, make_referral
):
    referral = make_referral(child)
    page = act_for(client, unverified_guardian, child).get(reverse("referrals:list"))
    assert referral.number not in page.content.decode()
    assert "ещё не подтверждён" in page.content.decode()
    assert client.get(reverse("referrals:book", args=[referral.pk])).status_code == 404


def test_book_by_referral_lists_only_the_clinics_it_allows(
    client, patient, neuro, home_clinic, make_referral
):
    from tests.factories import ClinicFactory, DoctorFactory

    there = ClinicFactory(short_name="Клиника по направлению")
    DoctorFactory(clinic=there, specialty=neuro)
    DoctorFactory(clinic=home_clinic, specialty=neuro)
    referral = make_referral(patient.patient, clinic=there)
    client.force_login(patient)
    page = client.get(reverse("referrals:book", args=[referral.pk])).content.decode()
    assert reverse("scheduling:booking_doctors", args=[there.pk, neuro.pk]) in page
    assert reverse("scheduling:booking_doctors", args=[home_clinic.pk, neuro.pk]) not in page
    assert "Встать в лист ожидания по направлению" in page


def test_a_guardian_opening_the_childs_referral_from_her_own_cabinet_is_asked_to_switch(
    client, guardian, child, make_referral
):
    referral = make_referral(child)
    client.force_login(guardian)
    page = client.get(reverse("referrals:book", args=[referral.pk])).content.decode()
    assert "Перейти в кабинет пациента" in page


def test_the_journal_shows_issuing_using_giving_back_and_cancelling(
    client, patient, clerk, neuro_slot, neuro, home_clinic
):
    from portal.referrals.services import referral_issue

    referral = referral_issue(
        actor=clerk, patient=patient.patient, specialty=neuro, issuer_clinic=home_clinic
    )
    appointment = appointment_book(
        actor=patient, patient=patient.patient, slot_id=neuro_slot.pk, idempotency_key=uuid.uuid4()
    ).appointment
    appointment_cancel(actor=patient, appointment=appointment)
    referral_cancel(actor=clerk, referral_id=referral.pk, reason="Ошибка", ip=None)
    client.force_login(patient)
    page = client.get(reverse("journal:page", args=[patient.patient.pk])).content.decode()
    for label in (
        "Выдано направление",
        "Запись по направлению",
        "Направление снова действует после отмены записи",
        "Направление отменено поликлиникой",
    ):
        assert label in page
    assert shown(f"Направление № {referral.number}") in page
    assert "Сотрудник медицинской организации" in page


def test_the_waitlist_by_referral_proposes_dates_ending_on_its_last_day(
    client, patient, neurologist, make_referral
):
    referral = make_referral(patient.patient, valid_until=days_from_today(9))
    client.force_login(patient)
    page = client.get(reverse("referrals:book", args=[referral.pk])).content.decode()
    link = page.split("Встать в лист ожидания по направлению")[0].rsplit('href="', 1)[1]
    form = client.get(link.split('"')[0].replace("&amp;", "&")).content.decode()
    assert f'value="{days_from_today(9).isoformat()}"' in form
