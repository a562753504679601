"""The dashboard's figures, who may see them, and the CSV."""

import datetime

import pytest
from django.utils import timezone

from portal.workspace.dashboard import clinic_dashboard
from tests.factories import AppointmentFactory, DoctorFactory, SlotFactory, SpecialtyFactory


def _at(hours: float) -> datetime.datetime:
    return timezone.now().replace(microsecond=0) + datetime.timedelta(hours=hours)


def _slot(doctor, hours: float, status: str = "free"):
    return SlotFactory(
        doctor=doctor, starts_at=_at(hours), ends_at=_at(hours + 0.3),
        opens_at=_at(-100), status=status,
    )  # fmt: skip


@pytest.fixture
def figures(home_clinic, clerk):
    doctor = DoctorFactory(clinic=home_clinic, specialty=SpecialtyFactory(name="Кардиолог"))
    for hours in (24, 48, 72, 96):
        _slot(doctor, hours)
    # Past: two attended, one no-show; one booked by phone (the clerk).
    for hours, status in ((-24, "attended"), (-25, "attended"), (-26, "no_show")):
        AppointmentFactory(slot=_slot(doctor, hours, "booked"), status=status)
    AppointmentFactory(slot=_slot(doctor, 120, "booked"), booked_by=clerk)
    cancelled = AppointmentFactory(slot=_slot(doctor, 30), status="cancelled_patient")
    cancelled.cancelled_at = cancelled.starts_at - datetime.timedelta(hours=6)
    cancelled.save()
    return doctor


@pytest.mark.django_db
def test_the_figures_per_specialty(home_clinic, figures):
    (row,) = clinic_dashboard(home_clinic)
    assert row.specialty.name == "Кардиолог"
    assert row.free_slots == 5  # four free ones and the cancelled one's slot
    assert row.third_available_days == pytest.approx(2, abs=0.05)  # 24h, 30h, then 48h
    assert row.no_show_rate == pytest.approx(1 / 3)
    assert row.cancel_lead_hours == pytest.approx(6)
    assert row.bookings["phone"] == 1 and row.bookings["portal"] == 4


@pytest.mark.django_db
def test_the_head_sees_charts_and_downloads_csv(head, as_staff, figures):
    browser = as_staff(head)
    page = browser.get("/workspace/dashboard/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in text and "Кардиолог" in text and "До третьего свободного" in text
    csv = browser.get("/workspace/dashboard.csv")
    body = csv.content.decode("utf-8-sig")
    assert csv["Content-Type"].startswith("text/csv")
    assert "Кардиолог;5;2,0;33,3;6,0;4;1" in body


@pytest.mark.django_db
def test_a_clerk_is_told_who_sees_the_figures(clerk, as_staff, figures):
    response = as_staff(clerk).get("/workspace/dashboard/")
    assert response.status_code == 403
    assert "заведующему и региональному оператору" in response.content.decode()


@pytest.mark.django_db
def test_another_clinics_head_cannot_pick_this_clinic(other_clerk, as_staff, figures):
    from portal.staff.models import StaffMember

    StaffMember.objects.filter(user=other_clerk).update(role=StaffMember.Role.HEAD)
    browser = as_staff(other_clerk)
    page = browser.get("/workspace/dashboard/", {"clinic": figures.clinic_id})
    assert "Кардиолог" not in page.content.decode()
    assert browser.get("/workspace/dashboard.csv", {"clinic": figures.clinic_id}).status_code == 400


@pytest.mark.django_db
def test_the_operator_chooses_a_clinic(operator, as_staff, figures):
    page = as_staff(operator).get("/workspace/dashboard/", {"clinic": figures.clinic_id})
    assert "Кардиолог" in page.content.decode()


def test_the_charts_numbers_read_as_the_tables_with_a_decimal_comma():
    """Issue 27: the chart said «1.8 дн.» beside the table's «1,8 дн.»."""
    from django.utils import translation

    from portal.workspace.dashboard import bars

    with translation.override("ru"):
        texts = [bar.text for bar in bars([("a", 1.8), ("b", 2.0), ("c", None)], "дн.")]
    assert texts == ["1,8 дн.", "2 дн.", "—"]
