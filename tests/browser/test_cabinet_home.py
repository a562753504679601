"""Issue 27, point 1: the cabinet home of a parent with two children, and of a child, passes
axe-core at 1280 and 375 px in the normal version and the version for the visually impaired,
and is never wider than the screen."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_every_page import _axe_problems, _in_version, _too_wide, _waitlist_offer
from tests.factories import (
    AppointmentFactory,
    ChildFactory,
    DoctorFactory,
    GuardianshipFactory,
    SlotFactory,
    born,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def family(guardian, child, home_clinic):
    son = ChildFactory(
        last_name="Иванов",
        first_name="Пётр",
        middle_name="Иванович",
        sex="M",
        birth_date=born(14, -10),
        clinic=home_clinic,
    )
    GuardianshipFactory(guardian=guardian.patient, child=son)
    doctor = DoctorFactory(clinic=home_clinic)
    starts = timezone.now() + datetime.timedelta(days=2)
    AppointmentFactory(
        slot=SlotFactory(doctor=doctor, status="booked", starts_at=starts),
        patient=child,
        booked_by=guardian,
    )
    AppointmentFactory(
        slot=SlotFactory(
            doctor=doctor, status="booked", starts_at=starts + datetime.timedelta(hours=1)
        ),
        patient=guardian.patient,
        booked_by=guardian,
    )
    _waitlist_offer(child, guardian, doctor, SlotFactory(doctor=doctor))
    return guardian, child


@pytest.mark.parametrize(
    ("version", "width"),
    [
        ("normal", 1280),
        ("normal", 375),
        ("white-on-black-200", 1280),
        ("white-on-black-200", 375),
    ],
)
def test_the_cabinet_home_passes_axe_and_fits_the_screen(
    live_server, page, login_as, act_for, use_version, axe, family, version, width
):
    guardian, child = family
    page.set_viewport_size({"width": width, "height": 900})
    use_version(version)
    check = _axe_problems(axe)
    login_as(guardian)
    problems = []
    page.goto(live_server.url + reverse("identity:cabinet"))
    expect(page.get_by_role("heading", name="Дети")).to_be_visible()
    problems += [f"mother: {p}" for p in _in_version(page, version) + check(page) + _too_wide(page)]
    act_for(child)
    page.goto(live_server.url + reverse("identity:cabinet"))
    expect(page.get_by_role("heading", name="Предложения времени ждут ответа")).to_be_visible()
    problems += [f"child: {p}" for p in _in_version(page, version) + check(page) + _too_wide(page)]
    assert not problems, f"{version} at {width} px:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("version", "width"),
    [
        ("normal", 1280),
        ("normal", 375),
        ("white-on-black-200", 1280),
        ("white-on-black-200", 375),
    ],
)
def test_the_move_to_any_date_pages_pass_axe_and_fit_the_screen(
    live_server, page, login_as, use_version, axe, patient, home_clinic, version, width
):
    doctor = DoctorFactory(clinic=home_clinic, room="214")
    booked = SlotFactory(doctor=doctor)
    mine = AppointmentFactory(slot=booked, patient=patient.patient, booked_by=patient)
    booked.status = "booked"
    booked.save(update_fields=["status"])
    day = timezone.localdate() + datetime.timedelta(days=8)
    starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(11)))
    SlotFactory(doctor=doctor, starts_at=starts, ends_at=starts + datetime.timedelta(minutes=20))
    page.set_viewport_size({"width": width, "height": 900})
    use_version(version)
    check = _axe_problems(axe)
    login_as(patient)
    problems = []
    for url in (
        reverse("scheduling:appointment_reschedule", args=[mine.pk]),
        reverse("scheduling:appointment_move_days", args=[mine.pk, doctor.pk]),
        reverse("scheduling:appointment_move_times", args=[mine.pk, doctor.pk, day.isoformat()]),
    ):
        page.goto(live_server.url + url)
        problems += [
            f"{url}: {p}" for p in _in_version(page, version) + check(page) + _too_wide(page)
        ]
    assert not problems, f"{version} at {width} px:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("version", "width"),
    [
        ("normal", 1280),
        ("normal", 375),
        ("white-on-black-200", 1280),
        ("white-on-black-200", 375),
    ],
)
def test_the_search_and_the_clinic_page_pass_axe_and_fit_the_screen(
    live_server, page, login_as, use_version, axe, demo_region, irkutsk_clinic, version, width
):
    from portal.demo import clinic_hours
    from tests.factories import PatientFactory

    clinic_hours.load(log=lambda _: None)
    anna = PatientFactory(clinic=irkutsk_clinic, area="1")  # her clinic and участковый marked
    page.set_viewport_size({"width": width, "height": 900})
    use_version(version)
    check = _axe_problems(axe)
    login_as(anna.user)
    problems = []
    for url in (
        reverse("cabinet:search") + "?q=детская",
        reverse("cabinet:search") + "?q=терапевт",
        reverse("cabinet:search") + "?q=щщщщ",
        reverse("directory:district_list"),
        reverse("directory:clinic_detail", args=[irkutsk_clinic.pk]),
    ):
        page.goto(live_server.url + url)
        problems += [
            f"{url}: {p}" for p in _in_version(page, version) + check(page) + _too_wide(page)
        ]
    assert not problems, f"{version} at {width} px:\n" + "\n".join(problems)
