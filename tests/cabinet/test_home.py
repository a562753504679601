"""Issue 27, point 1: the cabinet home shows what matters now for the person acted for."""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.notifications.models import Message
from portal.notifications.polling import events_fan_out
from portal.notifications.services import coming_of_age_notify
from portal.release import services
from portal.release.services import ballot_open
from portal.scheduling.services import appointment_book
from portal.waitlist.models import Offer, WaitlistEntry
from tests.factories import (
    AppointmentFactory,
    ChildFactory,
    DoctorFactory,
    GuardianshipFactory,
    SlotFactory,
    SpecialtyFactory,
    born,
)
from tests.release.conftest import day_ahead, make_slots

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_children(guardian, child, home_clinic):
    """Анна's daughter Мария (11) and son Пётр, who turns 14 in ten days."""
    son = ChildFactory(
        last_name="Иванов",
        first_name="Пётр",
        middle_name="Иванович",
        sex="M",
        birth_date=born(14, -10),
        clinic=home_clinic,
    )
    GuardianshipFactory(guardian=guardian.patient, child=son)
    return child, son


def _home(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("identity:cabinet"))
    assert response.status_code == 200
    return response.content.decode()


def test_a_parent_with_two_children_sees_each_with_booking_and_the_coming_birthday(
    client, guardian, two_children
):
    daughter, son = two_children
    AppointmentFactory(patient=daughter, booked_by=guardian)
    page = _home(client, guardian)
    children = page[page.index('id="home-children"') :]
    assert daughter.full_name in children and son.full_name in children
    assert children.count(">Записать<") == 2
    birthday = son.birth_date.replace(year=son.birth_date.year + 14)
    assert f"{birthday.day} " in children
    assert "исполнится 14 лет" in children
    # Only the son's card warns: the daughter is 11.
    assert children.count("исполнится 14 лет") == 1
    assert "Предстоящих приёмов: 1" in children


def test_the_parent_is_told_by_message_before_a_child_turns_14(guardian, two_children):
    _daughter, son = two_children
    mother = guardian.patient
    mother.email = "anna@example.ru"
    mother.save(update_fields=["email"])
    assert coming_of_age_notify() == 1
    told = Message.objects.filter(kind="coming_of_age", patient=son, recipient=guardian.patient)
    assert told.exists()
    assert "исполнится 14 лет" in told.get().text


def test_the_record_button_switches_to_the_child_and_opens_the_wizard(
    client, guardian, two_children
):
    daughter, _son = two_children
    client.force_login(guardian)
    response = client.post(
        reverse("patients:acting_switch"), {"patient": daughter.pk, "next": "booking"}
    )
    assert response.headers["Location"] == reverse("scheduling:booking_start")
    page = client.get(reverse("identity:cabinet")).content.decode()
    assert f'<h2 id="cabinet-patient">{daughter.full_name}</h2>' in page
    # Elsewhere than the wizard, «next» is ignored: the form cannot send the browser away.
    response = client.post(
        reverse("patients:acting_switch"), {"patient": daughter.pk, "next": "https://evil.example/"}
    )
    assert response.headers["Location"] == reverse("identity:cabinet")


def test_the_childs_home_shows_her_appointment_offer_waitlist_and_new_messages(
    client, guardian, two_children
):
    daughter, son = two_children
    visit = AppointmentFactory(patient=daughter, booked_by=guardian)
    AppointmentFactory(patient=son, booked_by=guardian)  # not hers: not on her home
    held = SlotFactory(doctor=visit.slot.doctor)
    offer = Offer.objects.create(
        patient=daughter,
        slot=held,
        kind="waitlist",
        expires_at=timezone.now() + datetime.timedelta(hours=2),
    )
    entry = WaitlistEntry.objects.create(
        patient=daughter,
        created_by=guardian,
        clinic=visit.slot.doctor.clinic,
        specialty=visit.specialty,
        date_from=timezone.localdate(),
        date_to=timezone.localdate() + datetime.timedelta(days=7),
    )
    client.force_login(guardian)
    client.post(reverse("patients:acting_switch"), {"patient": daughter.pk})
    page = client.get(reverse("identity:cabinet")).content.decode()
    upcoming = page[page.index('id="home-upcoming"') : page.index('id="home-offers"')]
    assert reverse("scheduling:appointment_ticket", args=[visit.pk]) in upcoming
    assert reverse("scheduling:appointment_reschedule", args=[visit.pk]) in upcoming
    assert reverse("scheduling:appointment_cancel", args=[visit.pk]) in upcoming
    assert upcoming.count("Талон<") == 1  # the son's appointment is on his own home
    assert f"{reverse('waitlist:offer_list')}#offer-{offer.pk}" in page
    assert "Время придержано до" in page
    assert f"{reverse('waitlist:entry_list')}#entry-{entry.pk}" in page
    assert "место в очереди — 1" in page
    # The booking's confirmation went to the parent: new until she opens «Уведомления».
    assert Message.objects.filter(patient=daughter).exists() is False  # factories send nothing
    assert "Новых уведомлений нет." in page
    assert 'id="home-children"' not in page  # a child's home lists no children


def test_a_home_with_nothing_to_come_still_shows_its_waitlist_and_offer(client, patient):
    """Without an appointment to come the upcoming read has no row to carry the look at
    the other lists: the look is asked on its own, and the home still shows them."""
    slot = SlotFactory()
    past = AppointmentFactory(patient=patient.patient, slot=SlotFactory(doctor=slot.doctor))
    past.starts_at = timezone.now() - datetime.timedelta(days=3)
    past.save(update_fields=["starts_at"])
    offer = Offer.objects.create(
        patient=patient.patient,
        slot=slot,
        kind="waitlist",
        expires_at=timezone.now() + datetime.timedelta(hours=2),
    )
    entry = WaitlistEntry.objects.create(
        patient=patient.patient,
        created_by=patient,
        clinic=slot.doctor.clinic,
        specialty=slot.doctor.specialty,
        date_from=timezone.localdate(),
        date_to=timezone.localdate() + datetime.timedelta(days=7),
    )
    page = _home(client, patient)
    assert "Предстоящих приёмов нет." in page
    assert f"{reverse('waitlist:offer_list')}#offer-{offer.pk}" in page
    assert f"{reverse('waitlist:entry_list')}#entry-{entry.pk}" in page


def test_new_messages_count_until_the_list_is_opened(client, guardian, two_children):
    daughter, _son = two_children
    mother = guardian.patient
    mother.email = "anna@example.ru"
    mother.save(update_fields=["email"])
    slot = SlotFactory()
    client.force_login(guardian)
    client.post(reverse("patients:acting_switch"), {"patient": daughter.pk})
    appointment_book(
        actor=guardian, patient=daughter, slot_id=slot.pk, idempotency_key=uuid.uuid4()
    )
    events_fan_out()  # the confirmation, as the first polling worker writes it (issue 25)
    page = client.get(reverse("identity:cabinet")).content.decode()
    assert "Новых уведомлений: 1." in page
    client.get(reverse("notifications:list"))
    page = client.get(reverse("identity:cabinet")).content.decode()
    assert "Новых уведомлений нет." in page


@pytest.fixture
def ballot(home_clinic):
    """A day's opening in an hour, as tests/release/conftest.py's."""
    specialty = SpecialtyFactory(code="ophthalmologist-t", name="Офтальмолог")
    doctor = DoctorFactory(clinic=home_clinic, specialty=specialty)
    make_slots(doctor, day_ahead(), [9, 10], timezone.now() + datetime.timedelta(hours=1))
    return ballot_open(clinic_id=home_clinic.pk, specialty_id=specialty.pk, day=day_ahead())


def test_a_pending_request_for_a_days_opening_waits_on_the_home_until_withdrawn(
    client, guardian, child, unverified_guardian, ballot
):
    """The home's look finds a request only where the list would show it: the mother's
    request for her daughter, not the other parent's view of it while his guardianship is
    unverified (he sees what he did himself, docs/domain.md «Relatives»)."""
    row = services.request_make(
        actor=guardian, patient=child, ballot=ballot, doctor_ids=[], times="any"
    ).request
    detail = reverse("release:request_detail", args=[row.pk])
    client.force_login(guardian)
    client.post(reverse("patients:acting_switch"), {"patient": child.pk})
    page = client.get(reverse("identity:cabinet")).content.decode()
    assert 'id="home-requests"' in page and detail in page
    client.post(reverse("patients:acting_switch"), {"patient": guardian.patient.pk})
    own_home = client.get(reverse("identity:cabinet")).content.decode()
    assert 'id="home-requests"' not in own_home  # the daughter's, not the mother's

    client.force_login(unverified_guardian)
    client.post(reverse("patients:acting_switch"), {"patient": child.pk})
    page = client.get(reverse("identity:cabinet")).content.decode()
    assert 'id="home-requests"' not in page

    client.force_login(guardian)
    client.post(reverse("patients:acting_switch"), {"patient": child.pk})
    assert client.post(reverse("release:request_withdraw", args=[row.pk])).status_code == 302
    page = client.get(reverse("identity:cabinet")).content.decode()
    assert 'id="home-requests"' not in page
