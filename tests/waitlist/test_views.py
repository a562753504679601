"""«Лист ожидания» and «Предложения времени» as each persona sees them, and what
hostile or stale input gets: a Russian answer, never a 500."""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.patients.models import Guardianship
from portal.patients.selectors import ACTING_SESSION_KEY
from portal.scheduling import services as booking
from portal.scheduling.models import Appointment, Slot
from portal.waitlist.errors import WaitlistRefused
from portal.waitlist.models import Offer, WaitlistEntry
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def acting_for(client, user, patient):
    client.force_login(user)
    session = client.session
    session[ACTING_SESSION_KEY] = patient.pk
    session.save()
    return client


def join_url(doctor):
    return (
        reverse("waitlist:entry_join")
        + f"?clinic={doctor.clinic_id}&specialty={doctor.specialty_id}"
    )


def form(**overrides):
    today = timezone.localdate()
    data = {
        "doctor": "",
        "date_from": today.isoformat(),
        "date_to": (today + datetime.timedelta(days=10)).isoformat(),
    }
    data.update(overrides)
    return data


def test_a_guardian_joins_for_the_child_and_sees_the_place_in_line(
    client, guardian, child, patient, doctor, join
):
    join(patient, patient.patient, doctor)  # someone came first
    acting_for(client, guardian, child)

    response = client.post(join_url(doctor), form(times=["morning", "evening"]), follow=True)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Место в очереди: 2" in page
    assert "впереди: 1" in page
    assert "утром (до 12:00)" in page and "вечером (после 16:00)" in page
    entry = WaitlistEntry.objects.get(patient=child)
    assert entry.times == "morning,evening" and entry.created_by == guardian


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (form(date_from="31.02.2020"), "Укажите дату «с»"),
        (form(date_to=""), "по какой день"),
        (form(times=["night"]), "Выберите время дня из списка"),
        (form(doctor="999999"), "Выберите врача из списка"),
    ],
)
def test_bad_form_input_is_answered_in_russian(client, patient, doctor, data, text):
    client.force_login(patient)
    response = client.post(join_url(doctor), data)
    assert response.status_code == 400
    assert text in response.content.decode()
    assert not WaitlistEntry.objects.exists()


def test_past_dates_and_a_second_entry_are_refused_with_what_to_do(client, patient, doctor):
    client.force_login(patient)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = client.post(join_url(doctor), form(date_from=yesterday.isoformat()))
    assert response.status_code == 409
    assert "Дата «с» уже прошла" in response.content.decode()

    assert client.post(join_url(doctor), form()).status_code == 302
    again = client.post(join_url(doctor), form())
    assert again.status_code == 409
    assert "уже стоит в листе ожидания" in again.content.decode()


def test_an_unknown_place_is_the_first_step_again(client, patient):
    client.force_login(patient)
    response = client.get(reverse("waitlist:entry_join") + "?clinic=abc&specialty=999999")
    assert response.status_code == 400
    assert "из списка" in response.content.decode()


def test_the_booking_rules_are_told_before_the_form_is_filled(client, patient, home_clinic):
    from tests.factories import DoctorFactory, SpecialtyFactory

    children = SpecialtyFactory(code="ped", name="Педиатр", age_group="children")
    doctor = DoctorFactory(clinic=home_clinic, specialty=children)
    client.force_login(patient)
    page = client.get(join_url(doctor)).content.decode()
    assert "Для детей до 18 лет" in page


def test_an_offer_is_taken_with_one_click_and_a_double_click_books_once(
    client, guardian, child, doctor, make_slot, join
):
    slot = make_slot()
    join(guardian, child, doctor)
    offer = Offer.objects.get()
    client.force_login(guardian)
    listing = client.get(reverse("waitlist:offer_list")).content.decode()
    assert "Записаться" in listing and "Время придержано до" in listing

    first = client.post(reverse("waitlist:offer_take", args=[offer.pk]))
    second = client.post(reverse("waitlist:offer_take", args=[offer.pk]))

    appointment = Appointment.objects.get(slot=slot, status="booked")
    assert appointment.patient == child
    target = reverse("scheduling:appointment_ticket", args=[appointment.pk])
    assert first["Location"] == second["Location"] == target


def test_declining_twice_is_harmless(client, guardian, child, doctor, make_slot, join):
    make_slot()
    join(guardian, child, doctor)
    offer = Offer.objects.get()
    client.force_login(guardian)
    url = reverse("waitlist:offer_decline", args=[offer.pk])
    assert client.post(url).status_code == 302
    page = client.post(url, follow=True).content.decode()
    assert "Сейчас для вас ничего не придержано" in page
    offer.refresh_from_db()
    assert offer.status == Offer.Status.DECLINED
    assert Slot.objects.get(pk=offer.slot_id).held_for_id is None


def test_an_expired_offer_says_so_and_books_nothing(
    client, guardian, child, doctor, make_slot, join
):
    make_slot()
    join(guardian, child, doctor)
    offer = Offer.objects.get()
    past = timezone.now() - datetime.timedelta(minutes=1)
    Offer.objects.filter(pk=offer.pk).update(expires_at=past)
    Slot.objects.filter(pk=offer.slot_id).update(held_until=past)
    client.force_login(guardian)

    page = client.post(reverse("waitlist:offer_take", args=[offer.pk]), follow=True)

    assert "Срок предложения истёк" in page.content.decode()
    assert not Appointment.objects.exists()


def test_someone_elses_entry_and_offer_are_404(
    client, stranger, guardian, child, doctor, make_slot, join
):
    make_slot()
    entry = join(guardian, child, doctor)
    offer = Offer.objects.get()
    client.force_login(stranger)
    for url in (
        reverse("waitlist:entry_leave", args=[entry.pk]),
        reverse("waitlist:offer_take", args=[offer.pk]),
        reverse("waitlist:offer_decline", args=[offer.pk]),
        reverse("waitlist:offer_take", args=[999999]),
    ):
        assert client.post(url).status_code == 404, url
    assert "Иванова М." not in client.get(reverse("waitlist:offer_list")).content.decode()
    assert Offer.objects.get().status == Offer.Status.OFFERED


def test_an_unverified_guardian_sees_only_what_they_did(
    client, guardian, child, doctor, make_slot, join
):
    make_slot()
    entry = join(guardian, child, doctor)
    offer = Offer.objects.get()
    newcomer = PatientFactory(last_name="Кузнецов", first_name="Иван", sex="M")
    Guardianship.objects.create(
        guardian=newcomer, child=child, relation=Guardianship.Relation.DAUGHTER, source="manual"
    )
    client.force_login(newcomer.user)

    assert client.post(reverse("waitlist:offer_take", args=[offer.pk])).status_code == 404
    assert client.post(reverse("waitlist:entry_leave", args=[entry.pk])).status_code == 404
    assert "Офтальмолог" not in client.get(reverse("waitlist:entry_list")).content.decode()
    assert not Appointment.objects.exists()


def test_leaving_withdraws_the_offer_and_passes_the_time_on(
    client, guardian, child, patient, doctor, make_slot, join
):
    slot = make_slot()
    entry = join(guardian, child, doctor)
    join(patient, patient.patient, doctor)
    client.force_login(guardian)

    client.post(reverse("waitlist:entry_leave", args=[entry.pk]))

    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.LEFT
    assert Offer.objects.get(status="offered").patient_id == patient.patient.pk
    slot.refresh_from_db()
    assert slot.held_for_id == patient.patient.pk


def test_staff_get_nothing_from_the_citizen_pages(client, clerk):
    client.force_login(clerk)
    for name in ("waitlist:entry_list", "waitlist:entry_join", "waitlist:offer_list"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "cabinet" in response["Location"], name


def test_the_lists_cost_a_fixed_number_of_queries(
    client, guardian, child, doctor, make_slot, join, django_assert_max_num_queries
):
    make_slot()
    join(guardian, child, doctor)
    client.force_login(guardian)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("waitlist:offer_list")).status_code == 200


def _newcomer_of(child):
    """A stranger who added the child by hand: an unverified guardianship."""
    newcomer = PatientFactory(last_name="Кузнецов", first_name="Иван", sex="M")
    Guardianship.objects.create(
        guardian=newcomer, child=child, relation=Guardianship.Relation.DAUGHTER, source="manual"
    )
    return newcomer


def test_a_refusal_does_not_tell_an_unverified_guardian_the_parents_waitlist(
    guardian, child, doctor, join
):
    """Before (issue 24): «Пациент уже стоит в листе ожидания к этому специалисту» told the
    newcomer which specialist the mother is waiting for."""
    join(guardian, child, doctor)
    newcomer = _newcomer_of(child)

    with pytest.raises(WaitlistRefused) as refused:
        join(newcomer.user, child, doctor)

    text = refused.value.message
    assert "специалист" not in text
    assert "другим законным представителем" in text


def test_a_refusal_does_not_tell_an_unverified_guardian_the_parents_booking(
    guardian, child, doctor, make_slot, join
):
    slot = make_slot()
    booking.appointment_book(
        actor=guardian, patient=child, slot_id=slot.pk, idempotency_key=uuid.uuid4()
    )
    newcomer = _newcomer_of(child)

    with pytest.raises(WaitlistRefused) as refused:
        join(newcomer.user, child, doctor)

    assert "предстоящая запись к этому специалисту" not in refused.value.message
    assert "другим законным представителем" in refused.value.message


def test_the_mother_is_still_told_exactly_why(guardian, child, doctor, join):
    join(guardian, child, doctor)
    with pytest.raises(WaitlistRefused) as refused:
        join(guardian, child, doctor)
    assert "уже стоит в листе ожидания к этому специалисту" in refused.value.message


@pytest.mark.parametrize("with_an_appointment", [True, False])
def test_moi_zapisi_counts_the_live_offers_with_or_without_appointments(
    client, patient, with_an_appointment
):
    """«Мои записи» counts the offers in its list's own statement when the list has a row
    to carry the count, and on its own when the patient has no appointment at all; an
    expired offer is not counted either way."""
    from tests.factories import AppointmentFactory, SlotFactory

    if with_an_appointment:
        AppointmentFactory(patient=patient.patient)
    for hours in (2, 3, -1):
        Offer.objects.create(
            patient=patient.patient,
            slot=SlotFactory(),
            kind="waitlist",
            expires_at=timezone.now() + datetime.timedelta(hours=hours),
        )
    client.force_login(patient)
    page = client.get(reverse("scheduling:appointment_list")).content.decode()
    assert "Для вас придержано время приёма (предложений: 2)" in page
    assert ("Предстоящих записей нет." in page) is not with_an_appointment
