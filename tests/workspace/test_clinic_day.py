"""The whole clinic's day: every doctor by time, filters by specialty and cabinet, a status
per line; doctor pickers say who treats what and where."""

import datetime

import pytest
from django.utils import timezone

from tests.factories import AppointmentFactory, DoctorFactory, SlotFactory, SpecialtyFactory
from tests.shown import shown


def _at(doctor, patient, minutes_from_now: int):
    starts = timezone.now().replace(second=0, microsecond=0) + datetime.timedelta(
        minutes=minutes_from_now
    )
    slot = SlotFactory(
        doctor=doctor,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(minutes=10),
        status="booked",
    )
    return AppointmentFactory(slot=slot, patient=patient)


@pytest.fixture
def day(home_clinic, patient, guardian):
    """Two doctors of the clinic, each with one appointment within the next hours."""
    ent = DoctorFactory(
        clinic=home_clinic,
        last_name="Семёнов",
        first_name="Игорь",
        middle_name="Львович",
        room="214",
        specialty=SpecialtyFactory(name="Оториноларинголог"),
    )
    gp = DoctorFactory(
        clinic=home_clinic,
        last_name="Агеева",
        first_name="Нина",
        middle_name="",
        room="105",
        specialty=SpecialtyFactory(name="Терапевт"),
    )
    # Late in the region's day, keep both within today.
    left = int(
        (timezone.localtime().replace(hour=23, minute=59) - timezone.localtime()).total_seconds()
        // 60
    )
    first, second = max(1, left // 3), max(2, 2 * left // 3)
    return {
        "ent": ent,
        "gp": gp,
        "later": _at(ent, patient.patient, second),
        "earlier": _at(gp, guardian.patient, first),
    }


def _url(clinic, **extra) -> str:
    query = {"clinic": clinic.pk, "date": timezone.localdate().isoformat(), **extra}
    return "/workspace/day/?" + "&".join(f"{key}={value}" for key, value in query.items())


@pytest.mark.django_db
def test_the_whole_day_lists_every_doctor_by_time(clerk, as_staff, home_clinic, day):
    text = as_staff(clerk).get(_url(home_clinic)).content.decode()
    earlier, later = day["earlier"], day["later"]
    assert earlier.ticket_number in text and later.ticket_number in text
    assert text.index(earlier.ticket_number) < text.index(later.ticket_number)
    assert "Семёнов И.Л. — Оториноларинголог" in text and "214" in text
    assert "Пришёл" in text


@pytest.mark.django_db
def test_filters_by_specialty_and_by_cabinet(clerk, as_staff, home_clinic, day):
    browser = as_staff(clerk)
    by_specialty = browser.get(_url(home_clinic, specialty=day["ent"].specialty_id))
    text = by_specialty.content.decode()
    assert day["later"].ticket_number in text and day["earlier"].ticket_number not in text
    by_room = browser.get(_url(home_clinic, room="105")).content.decode()
    assert day["earlier"].ticket_number in by_room and day["later"].ticket_number not in by_room


@pytest.mark.django_db
def test_doctor_pickers_name_specialty_and_cabinet_grouped_by_specialty(
    clerk, as_staff, home_clinic, day
):
    browser = as_staff(clerk)
    for url in (_url(home_clinic), "/workspace/absences/new/"):
        text = browser.get(url).content.decode()
        assert '<optgroup label="Оториноларинголог">' in text, url
        assert "Семёнов И.Л. — Оториноларинголог, каб. 214" in text, url
        assert "Агеева Н. — Терапевт, каб. 105" in text, url


@pytest.mark.django_db
def test_arrived_from_the_day_list_returns_to_it(clerk, as_staff, home_clinic, day):
    later = day["later"]
    back = _url(home_clinic)
    response = as_staff(clerk).post(f"/workspace/appointments/{later.pk}/arrived/", {"next": back})
    assert response.status_code == 302 and response.url == back
    later.refresh_from_db()
    assert later.arrived_at is not None


@pytest.mark.django_db
def test_next_never_leaves_the_workspace(clerk, as_staff, day):
    later = day["later"]
    response = as_staff(clerk).post(
        f"/workspace/appointments/{later.pk}/arrived/", {"next": "//evil.example/workspace/"}
    )
    assert response.url == f"/workspace/appointments/{later.pk}/"


@pytest.mark.django_db
def test_the_operators_directory_searches_filters_and_names_namesakes(
    operator, as_staff, home_clinic, day
):
    twin = DoctorFactory(last_name="Семёнов", first_name="Игорь", middle_name="Львович")
    browser = as_staff(operator)
    found = browser.get("/workspace/directory/doctor/", {"q": "семёнов"}).content.decode()
    assert found.count("Семёнов Игорь Львович") == 2
    assert "Агеева" not in found
    assert "полный тёзка: 2 врачей с таким ФИО" in found
    assert shown(twin.clinic.short_name) in found and shown(home_clinic.short_name) in found
    by_clinic = browser.get(
        "/workspace/directory/doctor/", {"q": "Семёнов", "clinic": home_clinic.pk}
    ).content.decode()
    assert by_clinic.count("Семёнов Игорь Львович") == 1
    by_specialty = browser.get(
        "/workspace/directory/doctor/", {"specialty": day["gp"].specialty_id}
    ).content.decode()
    assert "Агеева" in by_specialty and "Семёнов" not in by_specialty
