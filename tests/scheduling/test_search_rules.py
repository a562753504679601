"""Search applies every booking rule for the patient it searches for: «Ближайшее свободное
время» and the wizard never offer what the confirmation would refuse, and every page names
the same first reason (docs/domain.md, «Booking»)."""

import datetime
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.directory.models import Clinic, Doctor, Specialty
from portal.patients.selectors import ACTING_SESSION_KEY
from portal.scheduling.errors import BookingRefused, refusal_text
from portal.scheduling.models import Appointment
from portal.scheduling.services import appointment_book
from tests.factories import AppointmentFactory, ClinicFactory, DoctorFactory, SlotFactory
from tests.scheduling.conftest import specialty


def years_ago(years: int, days: int = 0) -> datetime.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - datetime.timedelta(days=days)


@pytest.fixture
def for_child(client, guardian, child):
    """The guardian's browser, acting for the child."""
    client.force_login(guardian)
    session = client.session
    session[ACTING_SESSION_KEY] = child.pk
    session.save()
    return client


def set_age(patient, years: int, days: int = 0) -> None:
    patient.birth_date = years_ago(years, days)
    patient.save(update_fields=["birth_date"])


def offered_slots(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/booking/slot/(\d+)/"', page)]


def first_alert(page: str) -> str | None:
    found = re.search(r'role="alert"[^>]*>\s*<p>(.*?)</p>', page, re.S)
    return found.group(1).strip() if found else None


def nearest(client, specialty_id: int, place: str) -> str:
    response = client.get(
        reverse("scheduling:booking_nearest"), {"specialty": specialty_id, "place": place}
    )
    assert response.status_code == 200
    return response.content.decode()


def soon(hours: int) -> datetime.datetime:
    return timezone.now().replace(second=0, microsecond=0) + datetime.timedelta(hours=hours)


def open_slot(doctor, hours: int):
    return SlotFactory(
        doctor=doctor,
        starts_at=soon(hours),
        ends_at=soon(hours) + datetime.timedelta(minutes=20),
        opens_at=soon(-24),
    )


# --- «Ближайшее свободное время» ------------------------------------------------------


def test_an_11_year_old_is_never_offered_an_adult_polyclinic_in_irkutsk(
    for_child, child, demo_region
):
    """The issue's walk: «Офтальмолог» in г. Иркутск for an 11-year-old listed adult
    polyclinics, and the confirmation then refused them."""
    set_age(child, 11)
    eye = Specialty.objects.get(name="Офтальмолог")
    doctors = list(Doctor.objects.filter(specialty=eye, clinic__district=demo_region))
    kinds = {d.clinic.kind for d in doctors}
    assert Clinic.Kind.ADULT in kinds and kinds - {Clinic.Kind.ADULT}, kinds
    # The adult polyclinics have the earliest times: a search blind to age shows them first.
    for hours, doctor in enumerate(sorted(doctors, key=lambda d: d.clinic.kind != "adult")):
        open_slot(doctor, 5 + hours)

    page = nearest(for_child, eye.pk, str(demo_region.pk))
    offered = offered_slots(page)
    assert offered, "children's and mixed clinics have free times"
    for slot_id in offered:
        confirm = for_child.get(
            reverse("scheduling:booking_confirm", args=[slot_id])
        ).content.decode()
        assert first_alert(confirm) is None, confirm
        assert ">Записаться</button>" in confirm
    shown = Doctor.objects.filter(slots__pk__in=offered)
    assert Clinic.Kind.ADULT not in {d.clinic.kind for d in shown}
    assert "только взрослых" not in page


def test_an_adult_is_never_offered_a_childrens_clinic(client, patient, demo_region):
    client.force_login(patient)
    eye = Specialty.objects.get(name="Офтальмолог")
    for hours, doctor in enumerate(
        Doctor.objects.filter(specialty=eye, clinic__district=demo_region)
    ):
        open_slot(doctor, 5 + hours)
    offered = offered_slots(nearest(client, eye.pk, str(demo_region.pk)))
    assert offered
    kinds = {d.clinic.kind for d in Doctor.objects.filter(slots__pk__in=offered)}
    assert Clinic.Kind.CHILDREN not in kinds


def test_attachment_only_specialties_are_searched_at_the_attached_clinic_only(
    for_child, child, home_clinic
):
    pediatrician = specialty("pediatrician", "attachment", "children")
    elsewhere = ClinicFactory(district=home_clinic.district, kind=Clinic.Kind.CHILDREN)
    other = open_slot(DoctorFactory(clinic=elsewhere, specialty=pediatrician), 3)
    own = open_slot(DoctorFactory(clinic=home_clinic, specialty=pediatrician), 6)
    page = nearest(for_child, pediatrician.pk, str(home_clinic.district_id))
    assert offered_slots(page) == [own.pk]
    assert other.pk not in offered_slots(page)
    assert "только в поликлинике прикрепления" in page and home_clinic.short_name in page
    assert offered_slots(nearest(for_child, pediatrician.pk, "attached")) == [own.pk]


def test_a_patient_attached_nowhere_is_told_so_instead_of_a_list(for_child, child, home_clinic):
    child.clinic = None
    child.save(update_fields=["clinic"])
    pediatrician = specialty("pediatrician", "attachment", "children")
    open_slot(DoctorFactory(clinic=home_clinic, specialty=pediatrician), 3)
    page = nearest(for_child, pediatrician.pk, str(home_clinic.district_id))
    assert first_alert(page) == refusal_text("no_attachment")
    assert offered_slots(page) == []


@pytest.mark.parametrize(
    ("access", "age_group", "code"),
    [("referral", "all", "referral_only"), ("direct", "adults", "adults_only")],
)
def test_a_specialty_the_child_cannot_book_answers_with_the_reason(
    for_child, child, home_clinic, access, age_group, code
):
    set_age(child, 11)
    closed = specialty(f"{access}-{age_group}", access, age_group)
    open_slot(DoctorFactory(clinic=home_clinic, specialty=closed), 3)
    page = nearest(for_child, closed.pk, str(home_clinic.district_id))
    assert first_alert(page) == refusal_text(code)
    assert offered_slots(page) == []


def test_a_specialty_already_booked_and_an_overlapping_time_are_not_offered(
    for_child, child, guardian, home_clinic
):
    eye = specialty("eye", "direct", "all")
    ent = specialty("ent", "direct", "all")
    first = open_slot(DoctorFactory(clinic=home_clinic, specialty=ent), 3)
    later = open_slot(DoctorFactory(clinic=home_clinic, specialty=ent), 5)
    AppointmentFactory(
        patient=child,
        booked_by=guardian,
        slot=open_slot(DoctorFactory(clinic=home_clinic, specialty=eye), 3),
    )
    district = str(home_clinic.district_id)
    assert first_alert(nearest(for_child, eye.pk, district)) == refusal_text("same_specialty")
    assert offered_slots(nearest(for_child, ent.pk, district)) == [later.pk]
    assert first.pk not in offered_slots(nearest(for_child, ent.pk, district))


# --- the wizard gives the same first reason everywhere --------------------------------


def test_every_page_gives_a_child_over_the_age_the_same_first_reason(
    for_child, guardian, child, settings
):
    """A 14-year-old at an adult clinic, for a referral-only specialty: three rules refuse,
    and every page and the service name the first one, the age."""
    set_age(child, settings.CHILD_MAX_AGE, days=1)
    adult = ClinicFactory(kind=Clinic.Kind.ADULT)
    neuro = specialty("neuro", "referral", "adults")
    doctor = DoctorFactory(clinic=adult, specialty=neuro)
    slot = open_slot(doctor, 5)
    expected = refusal_text("child_too_old")
    day = timezone.localtime(slot.starts_at).date().isoformat()
    pages = [
        reverse("scheduling:booking_start"),
        reverse("scheduling:booking_district", args=[adult.district_id]),
        reverse("scheduling:booking_clinic", args=[adult.pk]),
        reverse("scheduling:booking_doctors", args=[adult.pk, neuro.pk]),
        reverse("scheduling:booking_days", args=[doctor.pk]),
        reverse("scheduling:booking_times", args=[doctor.pk, day]),
        reverse("scheduling:booking_confirm", args=[slot.pk]),
        reverse("scheduling:booking_nearest") + f"?specialty={neuro.pk}&place={adult.district_id}",
    ]
    for url in pages:
        assert first_alert(for_child.get(url).content.decode()) == expected, url
    with pytest.raises(BookingRefused) as info:
        appointment_book(
            actor=guardian, patient=child, slot_id=slot.pk, idempotency_key=uuid.uuid4()
        )
    assert info.value.message == expected


def test_every_page_gives_an_11_year_old_at_an_adult_clinic_the_same_first_reason(
    for_child, guardian, child
):
    set_age(child, 11)
    adult = ClinicFactory(kind=Clinic.Kind.ADULT)
    neuro = specialty("neuro", "referral", "adults")
    doctor = DoctorFactory(clinic=adult, specialty=neuro)
    slot = open_slot(doctor, 5)
    expected = refusal_text("clinic_adults")
    pages = [
        reverse("scheduling:booking_clinic", args=[adult.pk]),
        reverse("scheduling:booking_doctors", args=[adult.pk, neuro.pk]),
        reverse("scheduling:booking_days", args=[doctor.pk]),
        reverse("scheduling:booking_confirm", args=[slot.pk]),
    ]
    for url in pages:
        assert first_alert(for_child.get(url).content.decode()) == expected, url
    district = for_child.get(
        reverse("scheduling:booking_district", args=[adult.district_id])
    ).content
    assert expected in district.decode()
    with pytest.raises(BookingRefused) as info:
        appointment_book(
            actor=guardian, patient=child, slot_id=slot.pk, idempotency_key=uuid.uuid4()
        )
    assert info.value.message == expected


def test_the_times_page_does_not_offer_a_time_that_overlaps_another_appointment(
    for_child, guardian, child, home_clinic
):
    eye = DoctorFactory(clinic=home_clinic, specialty=specialty("eye", "direct", "all"))
    ent = DoctorFactory(clinic=home_clinic, specialty=specialty("ent", "direct", "all"))
    clash, free = open_slot(eye, 30), open_slot(eye, 32)
    AppointmentFactory(patient=child, booked_by=guardian, slot=open_slot(ent, 30))
    day = timezone.localtime(clash.starts_at).date().isoformat()
    page = for_child.get(reverse("scheduling:booking_times", args=[eye.pk, day])).content.decode()
    if timezone.localtime(free.starts_at).date().isoformat() == day:
        assert free.pk in offered_slots(page)
    assert clash.pk not in offered_slots(page)
    confirm = for_child.get(reverse("scheduling:booking_confirm", args=[clash.pk])).content.decode()
    assert first_alert(confirm) == refusal_text("overlap")
    assert not Appointment.objects.filter(slot=clash).exists()


# --- one number for the children's age --------------------------------------------------


def test_changing_child_max_age_changes_the_rule_and_every_text(
    client, guardian, child, home_clinic, settings
):
    settings.CHILD_MAX_AGE = 12
    set_age(child, 12, days=1)
    slot = open_slot(DoctorFactory(clinic=home_clinic), 5)
    with pytest.raises(BookingRefused) as info:
        appointment_book(
            actor=guardian, patient=child, slot_id=slot.pk, idempotency_key=uuid.uuid4()
        )
    assert info.value.code == "child_too_old"
    assert "исполнилось 12 лет" in info.value.message

    assert "до 12 лет" in client.get(reverse("core:home")).content.decode()
    client.force_login(guardian)
    pages = {
        "home": client.get(reverse("core:home")),
        "personal": client.get(reverse("patients:personal")),
        "relative_add": client.get(reverse("patients:relative_add")),
    }
    for name, response in pages.items():
        page = response.content.decode()
        assert "14 лет" not in page, name
        assert "12 лет" in page, name
    client.post(reverse("patients:acting_switch"), {"patient": child.pk})
    for url in (reverse("identity:cabinet"), reverse("scheduling:booking_start")):
        page = client.get(url).content.decode()
        assert "исполнилось 12 лет" in page and "14 лет" not in page, url

    settings.CHILD_MAX_AGE = 13
    assert appointment_book(
        actor=guardian, patient=child, slot_id=slot.pk, idempotency_key=uuid.uuid4()
    ).created
