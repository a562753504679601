"""Issue 27, point 8: the smaller things a parent meets."""

import datetime

import pytest
from django.template.defaultfilters import date as date_format
from django.urls import reverse
from django.utils import timezone

from portal.release import services as release
from portal.waitlist.models import WaitlistEntry
from tests.factories import AppointmentFactory, DoctorFactory, SlotFactory, born
from tests.release.conftest import day_ahead, make_slots
from tests.shown import shown

pytestmark = pytest.mark.django_db


def test_back_after_booking_shows_her_own_booking_not_taken(client, patient):
    slot = SlotFactory(doctor=DoctorFactory(clinic=patient.patient.clinic))
    client.force_login(patient)
    url = reverse("scheduling:booking_confirm", args=[slot.pk])
    page = client.get(url).content.decode()
    key = page.split('name="key" value="')[1].split('"')[0]
    booked = client.post(url, {"key": key})
    # The browser's Back: the confirm page again.
    again = client.get(url, follow=True)
    text = again.content.decode()
    assert again.redirect_chain[-1][0] == booked.headers["Location"]
    assert "Вы уже записаны на это время" in text
    assert "занято" not in text


def test_the_ticket_of_an_eleven_year_old_asks_for_the_birth_certificate(client, guardian, child):
    appointment = AppointmentFactory(patient=child, booked_by=guardian)
    client.force_login(guardian)
    page = client.get(reverse("scheduling:appointment_ticket", args=[appointment.pk]))
    text = page.content.decode()
    assert "свидетельство о рождении и полис ОМС ребёнка" in text
    assert "Возьмите паспорт" not in text


def test_an_adults_ticket_asks_for_the_passport(client, patient):
    appointment = AppointmentFactory(patient=patient.patient, booked_by=patient)
    client.force_login(patient)
    text = client.get(
        reverse("scheduling:appointment_ticket", args=[appointment.pk])
    ).content.decode()
    assert "Возьмите паспорт и полис ОМС." in text


def test_weekdays_are_lowercase_mid_sentence(client, patient):
    sunday = timezone.localdate() + datetime.timedelta(
        days=(6 - timezone.localdate().weekday()) or 7
    )
    starts = timezone.make_aware(datetime.datetime.combine(sunday, datetime.time(10)))
    AppointmentFactory(
        patient=patient.patient,
        booked_by=patient,
        slot=SlotFactory(starts_at=starts, ends_at=starts + datetime.timedelta(minutes=20)),
    )
    client.force_login(patient)
    page = client.get(reverse("scheduling:appointment_list")).content.decode()
    assert "(вс)" in page and "(Вс)" not in page


def test_a_one_day_waitlist_entry_shows_one_date_and_the_first_place_in_words(
    client, guardian, child, home_clinic
):
    doctor = DoctorFactory(clinic=home_clinic)
    day = timezone.localdate() + datetime.timedelta(days=3)
    WaitlistEntry.objects.create(
        patient=child,
        created_by=guardian,
        clinic=home_clinic,
        specialty=doctor.specialty,
        date_from=day,
        date_to=day,
    )
    client.force_login(guardian)
    page = client.get(reverse("waitlist:entry_list")).content.decode()
    label = date_format(day, "j E")
    assert label in page and f"{label} — {label}" not in page
    assert "вы первые в очереди" in page and "впереди 0" not in page


def test_a_refused_day_does_not_say_step_6_over_greyed_times(client, guardian, home_clinic):
    # A 15-year-old: her parent may no longer book for her from the cabinet.
    from tests.factories import ChildFactory, GuardianshipFactory

    teen = ChildFactory(birth_date=born(15, 30), clinic=home_clinic)
    GuardianshipFactory(guardian=guardian.patient, child=teen)
    slot = SlotFactory(doctor=DoctorFactory(clinic=home_clinic))
    client.force_login(guardian)
    client.post(reverse("patients:acting_switch"), {"patient": teen.pk})
    day = timezone.localtime(slot.starts_at).date().isoformat()
    page = client.get(
        reverse("scheduling:booking_times", args=[slot.doctor_id, day])
    ).content.decode()
    assert "Шаг 6. Выберите время" not in page
    assert "записаться отсюда нельзя" in page


def test_a_parent_in_her_childs_cabinet_is_offered_her_own_request(
    client, guardian, child, home_clinic
):
    doctor = DoctorFactory(clinic=home_clinic)
    opens = timezone.now() + datetime.timedelta(hours=1)
    make_slots(doctor, day_ahead(), [9], opens)
    ballot = release.ballot_open(
        clinic_id=home_clinic.pk, specialty_id=doctor.specialty_id, day=day_ahead()
    )
    mine = release.request_make(
        actor=guardian, patient=guardian.patient, ballot=ballot, doctor_ids=[], times="any"
    ).request
    client.force_login(guardian)
    client.post(reverse("patients:acting_switch"), {"patient": child.pk})
    url = reverse("release:request_detail", args=[mine.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Это ваша заявка" in page.content.decode()
    back = client.post(
        reverse("patients:acting_switch"), {"patient": guardian.patient.pk, "next": url}
    )
    assert back.headers["Location"] == url
    assert "ждёт жеребьёвки" in client.get(url).content.decode()


def test_a_stranger_still_gets_a_404_for_someone_elses_request(client, guardian, stranger):
    doctor = DoctorFactory(clinic=guardian.patient.clinic)
    make_slots(doctor, day_ahead(), [9], timezone.now() + datetime.timedelta(hours=1))
    ballot = release.ballot_open(
        clinic_id=doctor.clinic_id, specialty_id=doctor.specialty_id, day=day_ahead()
    )
    theirs = release.request_make(
        actor=guardian, patient=guardian.patient, ballot=ballot, doctor_ids=[], times="any"
    ).request
    client.force_login(stranger)
    assert client.get(reverse("release:request_detail", args=[theirs.pk])).status_code == 404


def test_a_childs_district_lists_her_clinic_first_and_adult_clinics_last(client, guardian, child):
    from tests.factories import ClinicFactory, DistrictFactory

    district = DistrictFactory()
    adults = [
        ClinicFactory(district=district, short_name=f"Городская поликлиника № {n}", kind="adult")
        for n in (1, 2, 11)
    ]
    hers = ClinicFactory(district=district, short_name="Детская поликлиника № 5", kind="children")
    ClinicFactory(district=district, short_name="Детская поликлиника № 2", kind="children")
    child.clinic = hers
    child.save(update_fields=["clinic"])
    client.force_login(guardian)
    client.post(reverse("patients:acting_switch"), {"patient": child.pk})
    page = client.get(reverse("scheduling:booking_district", args=[district.pk])).content.decode()
    main = page[page.index("<main") :]
    names = ["Детская поликлиника № 5", "Детская поликлиника № 2"]
    names += [c.short_name + "<" for c in adults]  # «№ 1<», not the start of «№ 11»
    order = [main.index(shown(name)) for name in names]
    assert order == sorted(order), order


def test_nearest_offers_an_adult_no_childrens_specialty(client, patient):
    from tests.factories import SpecialtyFactory

    SpecialtyFactory(code="pediatrician", name="Педиатр участковый", age_group="children")
    SpecialtyFactory(code="therapist", name="Терапевт участковый", age_group="adults")
    client.force_login(patient)
    page = client.get(reverse("scheduling:booking_nearest")).content.decode()
    assert "Терапевт участковый" in page and "Педиатр участковый" not in page


def test_nearest_says_which_doctor_serves_her_uchastok(client, patient):
    from tests.factories import SpecialtyFactory

    therapist = SpecialtyFactory(
        code="therapist", name="Терапевт участковый", access="attachment", age_group="adults"
    )
    clinic = patient.patient.clinic
    hers = DoctorFactory(clinic=clinic, specialty=therapist, last_name="Яковлева", area="5")
    other = DoctorFactory(clinic=clinic, specialty=therapist, last_name="Абрамова", area="2")
    for doctor in (hers, other):
        SlotFactory(doctor=doctor)
    client.force_login(patient)
    page = client.get(
        reverse("scheduling:booking_nearest"), {"specialty": therapist.pk, "place": "attached"}
    ).content.decode()
    rows = page[page.index("<tbody>") :]
    assert rows.count("ваш участковый врач") == 1
    mark = rows.index("ваш участковый врач")
    assert rows.rfind(hers.full_name, 0, mark) > rows.rfind(other.full_name, 0, mark)
