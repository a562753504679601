"""The registry desk in a browser, at 1280 and 375 px, in the usual version and the
version for the visually impaired: find the caller by policy, move the appointment, open
the ticket at the window, mark «Пришёл»; axe-core on every page and no page scrolls
sideways. Screenshots for docs/workspace.md when SAVE_SCREENSHOTS names a folder."""

import datetime

import pytest
from django.utils import timezone

from portal.scheduling.models import Appointment
from tests.browser.test_workspace import _staff_session
from tests.factories import AppointmentFactory, DoctorFactory, SlotFactory, SpecialtyFactory

pytestmark = pytest.mark.django_db(transaction=True)

VIEWS = [
    (1280, "normal"),
    (375, "normal"),
    (1280, "white-on-black-200"),
    (375, "white-on-black-200"),
]


@pytest.fixture
def desk_day(patient, home_clinic):
    ent = SpecialtyFactory(name="Оториноларинголог")
    doctor = DoctorFactory(
        clinic=home_clinic, last_name="Семёнов", first_name="Игорь", room="214", specialty=ent
    )
    now = timezone.now().replace(second=0, microsecond=0)
    day = timezone.localdate() + datetime.timedelta(days=2)
    starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 0)))
    slot = SlotFactory(
        doctor=doctor, starts_at=starts, ends_at=starts + datetime.timedelta(minutes=20),
        status="booked",
    )  # fmt: skip
    later = SlotFactory(
        doctor=doctor,
        starts_at=starts + datetime.timedelta(hours=2),
        ends_at=starts + datetime.timedelta(hours=2, minutes=20),
    )
    moving = AppointmentFactory(slot=slot, patient=patient.patient, ticket_number="314159265358")
    gp = DoctorFactory(clinic=home_clinic, last_name="Агеева", room="105")
    today = AppointmentFactory(
        slot=SlotFactory(
            doctor=gp,
            starts_at=now + datetime.timedelta(minutes=1),
            ends_at=now + datetime.timedelta(minutes=21),
            status="booked",
        ),
        patient=patient.patient,
        ticket_number="271828182845",
    )
    return {"moving": moving, "later": later, "today": today, "day": day}


def _no_sideways_scroll(tab) -> None:
    overflow = tab.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    wide = tab.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right >"
        " document.documentElement.clientWidth + 1).slice(0, 5).map(e => e.tagName + '.' +"
        " e.className + '#' + e.id + ':' + Math.round(e.getBoundingClientRect().right))"
    )
    assert overflow <= 1, f"{tab.url} scrolls sideways by {overflow}px: {wide}"


@pytest.mark.parametrize(("width", "version"), VIEWS)
def test_the_desk_finds_moves_and_checks_in_the_caller(
    live_server, page, browser, assert_accessible, use_version, save_screenshot,
    clerk, patient, desk_day, width, version,
):  # fmt: skip
    use_version(version)
    _staff_session(browser, live_server, clerk)
    page.set_viewport_size({"width": width, "height": 900})
    shot = f"workspace-{width}-{version}"

    def check(name: str) -> None:
        assert_accessible(page)
        _no_sideways_scroll(page)
        if name in SHOTS and ((width == 1280 and version == "normal") or name == "card"):
            if width < 1280 or version != "normal":  # the page's own part, under the bars
                page.locator("h1").evaluate("h => window.scrollTo(0, h.offsetTop)")
            save_screenshot(page, f"{shot}-{name}")

    page.goto(f"{live_server.url}/workspace/patients/")
    check("search")
    page.get_by_label("Номер полиса ОМС").fill(patient.patient.policy_number)
    page.get_by_role("button", name="Найти").click()
    page.get_by_role("link", name=patient.patient.full_name).click()
    page.get_by_role("heading", name=patient.patient.full_name).wait_for()
    check("card")

    when = timezone.localtime(desk_day["moving"].starts_at).strftime("%d.%m.%Y %H:%M")
    page.get_by_role("link", name=f"Перенести — {when}").click()
    page.get_by_label("Новая дата").fill(desk_day["day"].isoformat())
    page.get_by_role("button", name="Показать свободное время").click()
    check("move")
    page.get_by_role("button", name="12:00", exact=False).click()
    page.get_by_text("Запись перенесена").wait_for()
    check("moved")
    moved = Appointment.objects.get(slot=desk_day["later"], status="booked")
    assert moved.patient_id == patient.patient.pk

    page.get_by_role("link", name="Окно", exact=True).click()
    check("window")
    page.get_by_label("Номер талона или QR-код").fill("271828182845")
    page.get_by_role("button", name="Открыть талон").click()
    page.get_by_role("button", name="Пришёл").click()
    page.get_by_text("отмечен приход").wait_for()
    check("ticket")

    page.get_by_role("link", name="Список дня").click()
    page.get_by_role("button", name="Показать").click()
    check("day")
    page.goto(
        f"{live_server.url}/workspace/patients/{patient.patient.pk}/book/?slot={desk_day['later'].pk}"
    )
    check("confirm")
    page.goto(f"{live_server.url}/workspace/appointments/{desk_day['today'].pk}/cancel/")
    page.get_by_role("heading", name="Отменить запись?").wait_for()
    check("cancel")
    for path in CLERK_PAGES:
        page.goto(f"{live_server.url}{path}")
        check(path.strip("/").replace("/", "-"))


# The pages docs/workspace.md shows (the card in every version).
SHOTS = {"card", "move", "ticket", "day", "confirm", "workspace-absences-new"}
CLERK_PAGES = [
    "/workspace/",
    "/workspace/absences/",
    "/workspace/absences/new/",
    "/workspace/schedules/",
    "/workspace/phone/",
    "/workspace/guardianships/",
]


@pytest.mark.parametrize(("width", "version"), VIEWS)
def test_the_operators_pages_are_accessible_and_fit(
    live_server, page, browser, assert_accessible, use_version, operator, desk_day,
    width, version,
):  # fmt: skip
    use_version(version)
    _staff_session(browser, live_server, operator)
    page.set_viewport_size({"width": width, "height": 900})
    for path in (
        "/workspace/directory/doctor/?q=Семёнов",
        "/workspace/dashboard/",
        "/workspace/day/",
        "/workspace/window/",
        "/workspace/patients/",
    ):
        page.goto(f"{live_server.url}{path}")
        assert_accessible(page)
        _no_sideways_scroll(page)
