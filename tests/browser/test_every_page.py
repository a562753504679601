"""Issue 16: every page, on a desktop and on a phone, in the normal version and in the
version for the visually impaired, passes axe-core and is never wider than the screen.

One browser for all of it (the session fixture); each combination is one test that walks
the whole list, so a failure names every page that broke, not just the first.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.scheduling.models import Appointment
from tests.factories import AppointmentFactory, DoctorFactory, SlotFactory, SpecialtyFactory

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP, PHONE, ZOOM_400 = 1280, 375, 320


def _slots(doctor, day, hours):
    slots = []
    for hour in hours:
        starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))
        slots.append(
            SlotFactory(
                doctor=doctor, starts_at=starts, ends_at=starts + datetime.timedelta(minutes=20)
            )
        )
    return slots


@pytest.fixture
def pages(demo_region, irkutsk_clinic, guardian, child, home_clinic):
    """(who, url) for every page of the portal, with the data each needs."""
    doctor = DoctorFactory(
        clinic=home_clinic,
        specialty=SpecialtyFactory(code="ophthalmologist", name="Офтальмолог"),
        last_name="Зорина",
        first_name="Ольга",
        middle_name="Викторовна",
        room="214",
    )
    day = timezone.localdate() + datetime.timedelta(days=2)
    free, for_child, booked, cancelled = _slots(doctor, day, (9, 10, 11, 12))
    appointment = AppointmentFactory(slot=booked, patient=child, booked_by=guardian)
    gone = AppointmentFactory(
        slot=cancelled,
        patient=guardian.patient,
        booked_by=guardian,
        status=Appointment.Status.CANCELLED_PATIENT,
    )
    clinic, specialty = home_clinic, doctor.specialty
    _waitlist_offer(child, guardian, doctor, _slots(doctor, day, (13,))[0])
    anonymous = [
        "/",
        reverse("directory:district_list"),
        reverse("directory:district_list") + "?page=2",
        reverse("directory:district_detail", args=[demo_region.pk]),
        reverse("directory:clinic_detail", args=[irkutsk_clinic.pk]),
        reverse("core:accessibility") + "?next=/",
        reverse("identity:cabinet"),
        reverse("identity:esia_callback"),
        reverse("identity:login_refused", args=["underage"]),
        reverse("identity:login_refused", args=["not_confirmed"]) + "?level=standard",
        "/no-such-page/",
    ]
    mother = [
        reverse("identity:cabinet"),
        reverse("patients:personal"),
        reverse("patients:relative_add"),
        reverse("patients:relative_remove", args=[child.guardians.get().pk]),
        reverse("journal:page", args=[guardian.patient.pk]),
        reverse("scheduling:booking_start"),
        reverse("scheduling:booking_district", args=[clinic.district_id]),
        reverse("scheduling:booking_clinic", args=[clinic.pk]),
        reverse("scheduling:booking_doctors", args=[clinic.pk, specialty.pk]),
        reverse("scheduling:booking_days", args=[doctor.pk]),
        reverse("scheduling:booking_times", args=[doctor.pk, day.isoformat()]),
        reverse("scheduling:booking_confirm", args=[free.pk]),
        reverse("scheduling:booking_nearest"),
        reverse("scheduling:booking_nearest") + f"?specialty={specialty.pk}&place=attached",
        reverse("scheduling:appointment_list"),
        reverse("scheduling:appointment_ticket", args=[appointment.pk]),
        reverse("scheduling:appointment_ticket", args=[gone.pk]),
        reverse("scheduling:appointment_cancel", args=[appointment.pk]),
        reverse("scheduling:appointment_reschedule", args=[appointment.pk]),
        reverse("scheduling:appointment_reschedule_confirm", args=[appointment.pk, free.pk]),
        reverse("waitlist:entry_list"),
        reverse("waitlist:entry_join"),
        reverse("waitlist:entry_join") + f"?clinic={clinic.pk}&specialty={specialty.pk}",
        reverse("waitlist:offer_list"),
        reverse("notifications:list"),
    ]
    mother += _release_pages(home_clinic, guardian)
    mother += _home_visit_pages(guardian, child)
    referral = _referrals(child, home_clinic)
    daughter = [
        reverse("referrals:list"),
        reverse("referrals:book", args=[referral.pk]),
        reverse("identity:cabinet"),
        reverse("scheduling:booking_confirm", args=[for_child.pk]),
        reverse("journal:page", args=[child.pk]),
    ]
    return {
        "anonymous": anonymous,
        "mother": mother,
        "daughter": daughter,
        "users": (guardian, child),
    }


def _home_visit_pages(guardian, child) -> list[str]:
    """«Вызов врача на дом» (docs/home-visits.md): the list, the form, a request's page."""
    from portal.home_visits.services import visit_create
    from tests.home_visits.conftest import valid_data

    visit = visit_create(actor=guardian, patient=child, data=valid_data(), ip=None)
    return [
        reverse("home_visits:list"),
        reverse("home_visits:new") + f"?patient={child.pk}",
        reverse("home_visits:detail", args=[visit.pk]),
    ]


def _referrals(child, clinic):
    """«Направления»: an active referral to a specialist at the clinic, and a used-up one."""
    from tests.factories import ReferralFactory

    specialty = SpecialtyFactory(code="neuro-every-page", name="Невролог", access="referral")
    DoctorFactory(clinic=clinic, specialty=specialty)
    ReferralFactory(patient=child, specialty=specialty, status="cancelled", cancel_reason="Ошибка")
    return ReferralFactory(patient=child, specialty=specialty, number="EVERY-PAGE-1")


def _waitlist_offer(child, guardian, doctor, slot):
    """The child waits for the doctor, and a time is held for her (docs/waitlist.md)."""
    from portal.waitlist.models import Offer, WaitlistEntry

    today = timezone.localdate()
    entry = WaitlistEntry.objects.create(
        patient=child,
        created_by=guardian,
        clinic=doctor.clinic,
        specialty=doctor.specialty,
        date_from=today,
        date_to=today + datetime.timedelta(days=10),
        times="morning",
        status=WaitlistEntry.Status.OFFERED,
    )
    until = timezone.now() + datetime.timedelta(hours=2)
    slot.held_for, slot.held_until = child, until
    slot.save(update_fields=["held_for", "held_until"])
    Offer.objects.create(
        patient=child, slot=slot, kind=Offer.Kind.WAITLIST, entry=entry, expires_at=until
    )


def _release_pages(clinic, guardian) -> list[str]:
    """«Запись при открытии дня»: the list, a form, a waiting request, a drawn one."""
    from portal.release import draws, services
    from tests.release.conftest import make_slots, open_now

    opens = timezone.now() + datetime.timedelta(hours=1)
    ballots = []
    for n in range(3):
        doctor = DoctorFactory(clinic=clinic, specialty=SpecialtyFactory(code=f"release-{n}"))
        day = timezone.localdate() + datetime.timedelta(days=3)
        make_slots(doctor, day, [9, 15], opens)
        ballots.append(
            services.ballot_open(clinic_id=clinic.pk, specialty_id=doctor.specialty_id, day=day)
        )
    waiting, drawn = (
        services.request_make(
            actor=guardian, patient=guardian.patient, ballot=b, doctor_ids=[], times="any"
        ).request
        for b in ballots[1:]
    )
    open_now(ballots[2])
    draws.draw_run(ballot_id=ballots[2].pk)
    return [
        reverse("release:home"),
        reverse("release:request_new", args=[ballots[0].pk]),
        reverse("release:request_detail", args=[waiting.pk]),
        reverse("release:request_detail", args=[drawn.pk]),
    ]


def _walk(page, live_server, login_as, act_for, pages, check):
    problems: list[str] = []

    def visit(urls):
        for url in urls:
            page.goto(live_server.url + url)
            problems.extend(f"{url}: {p}" for p in check(page))

    visit(pages["anonymous"])
    guardian, child = pages["users"]
    login_as(guardian)
    visit(pages["mother"])
    act_for(child)
    visit(pages["daughter"])
    return problems


def _in_version(page, version: str) -> list[str]:
    """Guards the test itself: the page really is in the version it claims to check."""
    classes = page.evaluate("document.documentElement.className")
    if ("a11y" in classes.split()) != (version != "normal"):
        return [f"expected the {version} version, <html class> is {classes!r}"]
    return []


def _too_wide(page) -> list[str]:
    width = page.evaluate("window.innerWidth")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    return [f"{scroll} px wide on a {width} px screen"] if scroll > width else []


def _axe_problems(axe):
    def check(page) -> list[str]:
        violations = axe.run(page).response["violations"]
        return [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(node["target"][0] for node in v["nodes"][:3])
            for v in violations
        ]

    return check


# Both widths in the normal version and in the strongest visually-impaired one; the
# second colour scheme (with images off) on the phone only, to keep the suite short.
COMBINATIONS = [
    ("normal", DESKTOP),
    ("normal", PHONE),
    ("white-on-black-200", DESKTOP),
    ("white-on-black-200", PHONE),
    ("blue-150-no-images", PHONE),
]


@pytest.mark.parametrize(("version", "width"), COMBINATIONS)
def test_every_page_passes_axe_and_fits_the_screen(
    live_server, page, login_as, act_for, use_version, axe, pages, version, width
):
    page.set_viewport_size({"width": width, "height": 900})
    use_version(version)
    axe_check = _axe_problems(axe)
    problems = _walk(
        page,
        live_server,
        login_as,
        act_for,
        pages,
        lambda p: _in_version(p, version) + axe_check(p) + _too_wide(p),
    )
    assert not problems, f"{version} at {width} px:\n" + "\n".join(problems)


@pytest.mark.parametrize("version", ["normal", "white-on-black-200"])
def test_every_page_reflows_at_400_percent_zoom(
    live_server, page, login_as, act_for, use_version, pages, version
):
    """WCAG 1.4.10: 1280 px at 400 % is 320 CSS px, with no horizontal scrolling."""
    page.set_viewport_size({"width": ZOOM_400, "height": 640})
    use_version(version)
    problems = _walk(
        page,
        live_server,
        login_as,
        act_for,
        pages,
        lambda p: _in_version(p, version) + _too_wide(p),
    )
    assert not problems, f"{version} at {ZOOM_400} px:\n" + "\n".join(problems)
