"""Statements per patient page (docs/performance.md, issue 25): a fixed number, whatever the
patient has and whatever the region holds.

Counted in the steady state: the first visit after a directory change fills the process's
directory cache (`directory.cache`), the second is counted. The tests run without Redis,
so the session is read from the database: one statement more than in production.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.core.compiled import queries_falling_back
from portal.patients.selectors import ACTING_SESSION_KEY
from portal.scheduling.models import Slot
from tests.factories import (
    AppointmentFactory,
    ChildFactory,
    ClinicFactory,
    DoctorFactory,
    GuardianshipFactory,
    ReferralFactory,
    SlotFactory,
)
from tests.scheduling.conftest import specialty

pytestmark = pytest.mark.django_db

# The session, the user with their patient and insurer (identity.backends), then the
# page's own.
EXPECTED = {
    # The upcoming appointments, each row with the look at the other lists: whether there
    # are offers, waitlist entries, home visits, pending ballot requests, unread
    # notifications (a home with nothing to come asks the look on its own: one more).
    "cabinet": 2 + 1,
    "appointments": 2 + 1,  # upcoming, history and the waitlist's offers count in one read
    "districts": 2,
    "district": 2,
    "clinic": 2 + 1,  # the patient's active appointments
    "doctors": 2 + 2,  # active appointments, the doctors' first free times
    "days": 2 + 2,  # active appointments, the free times
    "times": 2 + 2,  # active appointments, the day's free times
    "confirm": 2 + 1,  # the slot with her own booking on it, if any, and active appointments
    "nearest": 2 + 2,  # the ranking (not kept here); the slots with the active appointments
}


def _urls(doctor, slot) -> dict[str, str]:
    clinic = doctor.clinic
    day = slot.starts_at.astimezone(datetime.UTC).date()
    return {
        "cabinet": reverse("identity:cabinet"),
        "appointments": reverse("scheduling:appointment_list"),
        "districts": reverse("scheduling:booking_start"),
        "district": reverse("scheduling:booking_district", args=[clinic.district_id]),
        "clinic": reverse("scheduling:booking_clinic", args=[clinic.pk]),
        "doctors": reverse("scheduling:booking_doctors", args=[clinic.pk, doctor.specialty_id]),
        "days": reverse("scheduling:booking_days", args=[doctor.pk]),
        "times": reverse("scheduling:booking_times", args=[doctor.pk, day.isoformat()]),
        "confirm": reverse("scheduling:booking_confirm", args=[slot.pk]),
        "nearest": reverse("scheduling:booking_nearest")
        + f"?specialty={doctor.specialty_id}&place={clinic.district_id}",
    }


def _statements(client, urls: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, url in urls.items():
        assert client.get(url).status_code == 200, name
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200, name
        counts[name] = len(captured.captured_queries)
    return counts


def _more_of_everything(patient, doctor, n: int) -> None:
    """More appointments of the patient, more clinics, doctors, specialties and free times."""
    clinic = doctor.clinic
    for k in range(n):
        other = DoctorFactory(clinic=clinic, specialty=specialty(f"more-{n}-{k}", "direct", "all"))
        DoctorFactory(clinic=clinic, specialty=doctor.specialty)
        ClinicFactory(district=clinic.district)
        SlotFactory.create_batch(3, doctor=other)
        SlotFactory.create_batch(3, doctor=doctor)
        AppointmentFactory(patient=patient, slot__doctor=other)
        past = AppointmentFactory(patient=patient, slot__doctor=other, status="attended")
        Slot.objects.filter(pk=past.slot_id).update(
            starts_at=past.starts_at - datetime.timedelta(days=30),
            ends_at=past.ends_at - datetime.timedelta(days=30),
        )


@pytest.fixture
def page_settings(settings):
    settings.NEAREST_CACHE_SECONDS = 0  # count the ranking on every request


@pytest.mark.usefixtures("page_settings")
def test_each_page_sends_a_fixed_number_of_statements(client, patient, doctor):
    slot = SlotFactory(doctor=doctor)
    AppointmentFactory(patient=patient.patient)
    client.force_login(patient)
    client.get("/cabinet/")  # the session's first touch writes it once; not a page cost
    urls = _urls(doctor, slot)
    assert _statements(client, urls) == EXPECTED
    _more_of_everything(patient.patient, doctor, 6)
    assert _statements(client, urls) == EXPECTED
    assert queries_falling_back() == []


@pytest.mark.usefixtures("page_settings")
def test_a_parent_pays_one_read_for_the_family_however_many_children(
    client, guardian, child, doctor
):
    slot = SlotFactory(doctor=doctor)
    AppointmentFactory(patient=child, booked_by=guardian)  # something to come, as below
    client.force_login(guardian)
    client.get("/cabinet/")
    urls = _urls(doctor, slot)
    with_one = _statements(client, urls)
    # The family (children and guardianships) once; the cabinet also counts newcomers
    # among the children's guardians.
    family = {name: count + 1 for name, count in EXPECTED.items()}
    assert with_one == {**family, "cabinet": family["cabinet"] + 1}
    for _ in range(3):
        GuardianshipFactory(guardian=guardian.patient, child=ChildFactory())
        AppointmentFactory(patient=child, booked_by=guardian)
    assert _statements(client, urls) == with_one
    # Acting for a child: the child comes from the same family read.
    session = client.session
    session[ACTING_SESSION_KEY] = child.pk
    session.save()
    assert _statements(client, urls) == with_one


@pytest.mark.usefixtures("page_settings")
def test_an_unverified_guardian_costs_what_a_parent_costs(
    client, unverified_guardian, child, doctor
):
    slot = SlotFactory(doctor=doctor)
    AppointmentFactory(patient=child, booked_by=unverified_guardian)
    client.force_login(unverified_guardian)
    client.get("/cabinet/")
    family = {name: count + 1 for name, count in EXPECTED.items()}
    assert _statements(client, _urls(doctor, slot)) == {**family, "cabinet": family["cabinet"] + 1}
    assert queries_falling_back() == []


def _slot_reads(client, slot, key: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.post(reverse("scheduling:booking_confirm", args=[slot.pk]), {"key": key})
    assert response.status_code == 409
    table = Slot._meta.db_table
    reads = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT")
    ]
    return sum(f'"{table}"' in sql.split(" WHERE ")[0] for sql in reads), response.content.decode()


@pytest.mark.usefixtures("page_settings")
def test_a_refused_booking_shows_the_slot_from_its_one_lock_free_read(client, patient, doctor):
    """At 07:00 most POSTs are refused (taken, kept for a draw): the page that says so
    names the doctor and the time from the read that refused it, not from a second one."""
    taken = SlotFactory(doctor=doctor, status=Slot.Status.BOOKED)
    AppointmentFactory(slot=taken)  # someone else's
    client.force_login(patient)
    client.get("/cabinet/")
    reads, page = _slot_reads(client, taken, "9a1f54e2-35b8-4a0d-9c44-2f1d6a0b7c11")
    assert reads == 1
    assert doctor.full_name in page and "Это время уже занято" in page
    assert doctor.clinic.short_name in page


@pytest.mark.usefixtures("page_settings")
def test_a_referral_only_specialty_reads_her_referrals_with_her_appointments(
    client, patient, doctor
):
    """Where the referral rule asks for her referrals, they come in the statement that
    reads her active appointments (docs/performance.md, «Referrals read with the active
    appointments»): no statement more, and the rule sees both."""
    neurology = specialty("neuro-ref", "referral", "all")
    neurologist = DoctorFactory(clinic=doctor.clinic, specialty=neurology)
    slot = SlotFactory(doctor=neurologist)
    AppointmentFactory(patient=patient.patient)  # another specialty's
    client.force_login(patient)
    client.get("/cabinet/")
    urls = {
        name: url
        for name, url in _urls(neurologist, slot).items()
        if name in ("clinic", "doctors", "days", "times")
    }
    assert _statements(client, urls) == {name: EXPECTED[name] for name in urls}
    assert "Запись только по направлению" in client.get(urls["doctors"]).content.decode()

    ReferralFactory(patient=patient.patient, specialty=neurology)
    assert _statements(client, urls) == {name: EXPECTED[name] for name in urls}
    page = client.get(urls["doctors"]).content.decode()
    assert "Запись только по направлению" not in page and "уже есть" not in page

    # An appointment to the specialty, read with the referral, counts: one per specialty.
    AppointmentFactory(patient=patient.patient, slot__doctor=neurologist)
    assert "уже есть предстоящая запись" in client.get(urls["doctors"]).content.decode()
    assert queries_falling_back() == []
