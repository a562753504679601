"""The referral rule in every path that books (docs/referrals.md): the wizard, «Ближайшее
свободное время», the waitlist and its offer, the fair release's draw, booking by phone."""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.patients.models import InsuredPerson, Patient
from portal.patients.selectors import ACTING_SESSION_KEY
from portal.referrals.models import Referral
from portal.release import draws
from portal.release import services as release
from portal.release.errors import ReleaseRefused
from portal.release.services import ballot_open
from portal.scheduling.models import Appointment
from portal.waitlist import services as waitlist
from portal.waitlist.errors import WaitlistRefused
from portal.waitlist.models import Offer
from tests.factories import ClinicFactory, DoctorFactory, InsuranceCompanyFactory, SlotFactory
from tests.referrals.conftest import days_from_today
from tests.release.conftest import day_ahead, make_slots, open_now
from tests.shown import shown

pytestmark = pytest.mark.django_db


def fresh(user):
    """The patient as the next request loads it (a patient object remembers the referrals
    it was asked about: `referrals.selectors.referrals_held`)."""
    return Patient.objects.get(pk=user.patient.pk)


def act_for(client, user, patient):
    client.force_login(user)
    session = client.session
    session[ACTING_SESSION_KEY] = patient.pk
    session.save()
    return client


# --- the wizard ---------------------------------------------------------------------


def test_the_wizard_shows_the_specialty_bookable_and_names_the_referral(
    client, guardian, child, neuro, neuro_slot, make_referral
):
    act_for(client, guardian, child)
    clinic_page = client.get(reverse("scheduling:booking_clinic", args=[child.clinic_id]))
    assert "Запись только по направлению" in clinic_page.content.decode()
    referral = make_referral(child)
    client = act_for(client, guardian, child)
    clinic_page = client.get(reverse("scheduling:booking_clinic", args=[child.clinic_id]))
    assert "Запись только по направлению" not in clinic_page.content.decode()
    confirm = client.get(reverse("scheduling:booking_confirm", args=[neuro_slot.pk]))
    assert shown(f"Запись по направлению № {referral.number}") in confirm.content.decode()
    client.post(
        reverse("scheduling:booking_confirm", args=[neuro_slot.pk]),
        {"key": str(uuid.uuid4()), "referral": referral.pk},
    )
    referral.refresh_from_db()
    assert referral.status == "used" and referral.appointment.patient == child
    ticket = client.get(
        reverse("scheduling:appointment_ticket", args=[referral.appointment_id])
    ).content.decode()
    assert shown(f"По направлению № {referral.number}") in ticket


def test_with_several_referrals_the_patient_picks_one(client, patient, neuro_slot, make_referral):
    sooner = make_referral(patient.patient, valid_until=days_from_today(3))
    later = make_referral(patient.patient, valid_until=days_from_today(20))
    client.force_login(patient)
    page = client.get(reverse("scheduling:booking_confirm", args=[neuro_slot.pk])).content
    assert "По какому направлению записаться" in page.decode()
    assert sooner.number in page.decode() and later.number in page.decode()
    client.post(
        reverse("scheduling:booking_confirm", args=[neuro_slot.pk]),
        {"key": str(uuid.uuid4()), "referral": later.pk},
    )
    assert Referral.objects.get(pk=later.pk).status == "used"
    assert Referral.objects.get(pk=sooner.pk).status == "active"


def test_without_a_referral_the_confirmation_refuses_and_says_where_to_get_one(
    client, patient, neuro_slot
):
    client.force_login(patient)
    response = client.post(
        reverse("scheduling:booking_confirm", args=[neuro_slot.pk]), {"key": str(uuid.uuid4())}
    )
    assert response.status_code == 409
    assert "Направление выдаёт участковый врач" in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_forged_referral_id_of_someone_else_is_refused(
    client, patient, stranger, neuro_slot, make_referral
):
    make_referral(patient.patient)
    theirs = make_referral(stranger.patient)
    client.force_login(patient)
    response = client.post(
        reverse("scheduling:booking_confirm", args=[neuro_slot.pk]),
        {"key": str(uuid.uuid4()), "referral": theirs.pk},
    )
    assert response.status_code == 409
    assert Referral.objects.get(pk=theirs.pk).status == "active"


# --- «Ближайшее свободное время» ----------------------------------------------------


def test_nearest_time_refuses_without_and_lists_with_a_referral(
    client, patient, home_clinic, neuro_slot, make_referral
):
    client.force_login(patient)
    url = reverse("scheduling:booking_nearest")
    query = {"specialty": neuro_slot.doctor.specialty_id, "place": str(home_clinic.district_id)}
    confirm = reverse("scheduling:booking_confirm", args=[neuro_slot.pk])
    refused = client.get(url, query).content.decode()
    assert "Запись только по направлению" in refused and confirm not in refused
    make_referral(patient.patient)
    assert confirm in client.get(url, query).content.decode()


def test_nearest_time_lists_only_the_clinic_the_referral_names(
    client, patient, home_clinic, neuro, make_referral
):
    there = ClinicFactory(district=home_clinic.district)
    home_slot = SlotFactory(doctor=DoctorFactory(clinic=home_clinic, specialty=neuro))
    there_slot = SlotFactory(doctor=DoctorFactory(clinic=there, specialty=neuro))
    make_referral(patient.patient, clinic=there)
    client.force_login(patient)
    page = client.get(
        reverse("scheduling:booking_nearest"),
        {"specialty": neuro.pk, "place": str(home_clinic.district_id)},
    ).content.decode()
    assert reverse("scheduling:booking_confirm", args=[there_slot.pk]) in page
    assert reverse("scheduling:booking_confirm", args=[home_slot.pk]) not in page


# --- the waitlist -------------------------------------------------------------------


def join(user, patient, doctor):
    today = timezone.localdate()
    return waitlist.entry_join(
        actor=user,
        patient=patient,
        clinic_id=doctor.clinic_id,
        specialty_id=doctor.specialty_id,
        doctor_id=None,
        date_from=today,
        date_to=today + datetime.timedelta(days=7),
        times="",
        ip=None,
    )


def test_the_waitlist_refuses_without_a_referral_and_its_offer_uses_one(
    patient, neurologist, make_referral, settings
):
    settings.SMPP_HOST = ""
    with pytest.raises(WaitlistRefused) as info:
        join(patient, patient.patient, neurologist)
    assert info.value.code == "referral_only"
    referral = make_referral(patient.patient)
    SlotFactory(doctor=neurologist)
    entry = join(patient, fresh(patient), neurologist)  # a free time fits: offered at once
    offer = Offer.objects.get(entry=entry)
    appointment = waitlist.offer_take(actor=patient, offer=offer)
    referral.refresh_from_db()
    assert referral.appointment_id == appointment.pk


def test_an_offer_taken_after_the_referral_was_cancelled_is_refused(
    patient, neurologist, make_referral, settings
):
    settings.SMPP_HOST = ""
    referral = make_referral(patient.patient)
    SlotFactory(doctor=neurologist)
    offer = Offer.objects.get(entry=join(patient, patient.patient, neurologist))
    Referral.objects.filter(pk=referral.pk).update(status="cancelled")
    with pytest.raises(Exception) as info:
        waitlist.offer_take(actor=patient, offer=offer)
    assert getattr(info.value, "code", None) == "referral_only"
    assert not Appointment.objects.filter(status="booked").exists()


# --- the fair release ----------------------------------------------------------------


@pytest.fixture
def neuro_ballot(home_clinic, neuro, neurologist):
    opens = timezone.now() + datetime.timedelta(hours=1)
    make_slots(neurologist, day_ahead(), [9, 10], opens)
    return ballot_open(clinic_id=home_clinic.pk, specialty_id=neuro.pk, day=day_ahead())


def test_the_fair_release_refuses_a_request_without_a_referral_and_the_draw_uses_it(
    patient, stranger, neuro_ballot, make_referral
):
    with pytest.raises(ReleaseRefused) as info:
        release.request_make(
            actor=patient, patient=patient.patient, ballot=neuro_ballot, doctor_ids=[], times="any"
        )
    assert info.value.code == "referral_only"
    referral = make_referral(patient.patient)
    release.request_make(
        actor=patient, patient=fresh(patient), ballot=neuro_ballot, doctor_ids=[], times="any"
    )
    open_now(neuro_ballot)
    draws.draw_run(ballot_id=neuro_ballot.pk)
    referral.refresh_from_db()
    assert referral.status == "used"
    assert referral.appointment.patient == patient.patient


# --- booking by phone ----------------------------------------------------------------


@pytest.fixture
def caller(home_clinic):
    return InsuredPerson.objects.create(
        policy_kind="E",
        policy_number="7700000000000099",
        last_name="Фёдорова",
        first_name="Мария",
        middle_name="Ильинична",
        birth_date=datetime.date(1960, 3, 1),
        sex="F",
        insurer=InsuranceCompanyFactory(),
        clinic=home_clinic,
    )


def test_booking_by_phone_asks_the_same_rule(clerk, as_staff, caller, neuro_slot):
    browser = as_staff(clerk)
    browser.get("/workspace/phone/", {"policy": caller.policy_number})
    response = browser.post(
        f"/workspace/phone/{caller.pk}/book/",
        {"slot": neuro_slot.pk, "idempotency_key": str(uuid.uuid4())},
        follow=True,
    )
    assert "Запись только по направлению" in response.content.decode()
    assert not Appointment.objects.exists()
