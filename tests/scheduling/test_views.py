"""The wizard and «Мои записи» as a user sees them: pages, refusals, personas, query counts."""

import datetime
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from portal.patients.selectors import ACTING_SESSION_KEY
from portal.scheduling.models import Appointment, Slot
from tests.factories import AppointmentFactory, DoctorFactory, SlotFactory
from tests.scheduling.conftest import specialty


@pytest.fixture
def as_patient(client, patient):
    client.force_login(patient)
    return client


def test_anonymous_visitors_are_sent_to_log_in(client, slot):
    response = client.get(reverse("scheduling:booking_confirm", args=[slot.pk]))
    assert response.status_code == 302
    assert reverse("identity:cabinet") in response["Location"]


def test_the_wizard_walks_from_district_to_confirmation(as_patient, doctor, slot):
    clinic = doctor.clinic
    pages = [
        reverse("scheduling:booking_start"),
        reverse("scheduling:booking_district", args=[clinic.district_id]),
        reverse("scheduling:booking_clinic", args=[clinic.pk]),
        reverse("scheduling:booking_doctors", args=[clinic.pk, doctor.specialty_id]),
        reverse("scheduling:booking_days", args=[doctor.pk]),
    ]
    for url in pages:
        assert as_patient.get(url).status_code == 200, url
    day = slot.starts_at.astimezone(doctor_tz()).date().isoformat()
    times = as_patient.get(reverse("scheduling:booking_times", args=[doctor.pk, day]))
    assert reverse("scheduling:booking_confirm", args=[slot.pk]) in times.content.decode()
    confirm = as_patient.get(reverse("scheduling:booking_confirm", args=[slot.pk])).content.decode()
    for fact in ("Соколов Николай", "Зорина Ольга", "214", "Записаться", clinic.address):
        assert fact in confirm


def doctor_tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Irkutsk")


def test_unavailable_specialties_are_shown_with_the_reason(as_patient, home_clinic):
    DoctorFactory(clinic=home_clinic, specialty=specialty("neuro", "referral", "adults"))
    DoctorFactory(clinic=home_clinic, specialty=specialty("ped", "direct", "children"))
    page = as_patient.get(
        reverse("scheduling:booking_clinic", args=[home_clinic.pk])
    ).content.decode()
    assert "Запись только по направлению" in page
    assert "Для детей до 18 лет" in page


def test_a_double_click_on_zapisatsya_books_once(as_patient, patient, slot):
    url = reverse("scheduling:booking_confirm", args=[slot.pk])
    same = str(uuid.uuid4())
    first = as_patient.post(url, {"key": same})
    second = as_patient.post(url, {"key": same})
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Appointment.objects.count() == 1


def test_a_taken_slot_answers_409_with_the_message_not_500(as_patient, stranger, slot):
    AppointmentFactory(slot=slot, patient=stranger.patient)
    Slot.objects.filter(pk=slot.pk).update(status="booked")
    response = as_patient.post(
        reverse("scheduling:booking_confirm", args=[slot.pk]), {"key": str(uuid.uuid4())}
    )
    assert response.status_code == 409
    assert "уже занято" in response.content.decode()


def test_a_missing_key_asks_to_refresh(as_patient, slot):
    response = as_patient.post(reverse("scheduling:booking_confirm", args=[slot.pk]), {})
    assert response.status_code == 400
    assert "Обновите" in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_guardian_books_for_the_chosen_child(client, guardian, child, slot):
    client.force_login(guardian)
    session = client.session
    session[ACTING_SESSION_KEY] = child.pk
    session.save()
    client.post(reverse("scheduling:booking_confirm", args=[slot.pk]), {"key": str(uuid.uuid4())})
    assert Appointment.objects.get().patient == child


def test_my_appointments_show_self_and_children_in_one_view(client, guardian, child):
    mine = AppointmentFactory(patient=guardian.patient)
    hers = AppointmentFactory(patient=child, booked_by=guardian)
    client.force_login(guardian)
    page = client.get(reverse("scheduling:appointment_list")).content.decode()
    assert mine.ticket_number in page and hers.ticket_number in page


def test_a_stranger_cannot_see_cancel_print_or_download_someone_elses_appointment(
    client, stranger, guardian, child
):
    appointment = AppointmentFactory(patient=child, booked_by=guardian)
    client.force_login(stranger)
    for name in (
        "scheduling:appointment_ticket",
        "scheduling:appointment_cancel",
        "scheduling:appointment_ics",
    ):
        assert client.get(reverse(name, args=[appointment.pk])).status_code == 404
    assert (
        client.post(reverse("scheduling:appointment_cancel", args=[appointment.pk])).status_code
        == 404
    )
    assert (
        appointment.ticket_number
        not in client.get(reverse("scheduling:appointment_list")).content.decode()
    )
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_cancel_asks_first_then_frees_the_slot(as_patient, patient):
    appointment = AppointmentFactory(patient=patient.patient)
    url = reverse("scheduling:appointment_cancel", args=[appointment.pk])
    assert "Да, отменить запись" in as_patient.get(url).content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert as_patient.post(url).status_code == 302
    appointment.refresh_from_db()
    appointment.slot.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED_PATIENT
    assert appointment.slot.status == Slot.Status.FREE


def test_the_ticket_has_an_inline_qr_code_and_the_ics_the_exact_time(as_patient, patient):
    appointment = AppointmentFactory(patient=patient.patient)
    ticket = as_patient.get(
        reverse("scheduling:appointment_ticket", args=[appointment.pk])
    ).content.decode()
    assert "<svg" in ticket and appointment.ticket_number in ticket
    response = as_patient.get(reverse("scheduling:appointment_ics", args=[appointment.pk]))
    assert response["Content-Type"].startswith("text/calendar; charset=utf-8")
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    start = event.decoded("dtstart")
    # UTC, which every calendar converts right (tests/scheduling/test_ics_clients.py).
    assert start.utcoffset() == datetime.timedelta(0)
    assert start == appointment.starts_at
    assert b"BEGIN:VTIMEZONE" not in response.content


def test_nearest_free_time_lists_each_doctors_earliest_slot(as_patient, home_clinic, doctor):
    late = SlotFactory(doctor=doctor)
    # An hour before, not "at midnight": a sequence that put ``late`` at 00:xx made both
    # slots start at once and the unique (doctor, start) refused the second.
    early = SlotFactory(doctor=doctor, starts_at=late.starts_at - datetime.timedelta(hours=1))
    early.ends_at = early.starts_at + datetime.timedelta(minutes=20)
    early.save()
    response = as_patient.get(
        reverse("scheduling:booking_nearest"),
        {"specialty": doctor.specialty_id, "place": str(home_clinic.district_id)},
    )
    page = response.content.decode()
    assert reverse("scheduling:booking_confirm", args=[early.pk]) in page
    assert reverse("scheduling:booking_confirm", args=[late.pk]) not in page


def test_nearest_free_time_without_a_specialty_explains(as_patient):
    page = as_patient.get(
        reverse("scheduling:booking_nearest"), {"place": "attached"}
    ).content.decode()
    assert "Выберите специальность врача." in page
    assert 'aria-describedby="id_specialty-errors"' in page


@pytest.mark.parametrize("place", ["999999", "<script>", "attached'--", ""])
def test_nearest_free_time_with_a_place_not_offered_says_what_to_choose(
    as_patient, home_clinic, doctor, place
):
    response = as_patient.get(
        reverse("scheduling:booking_nearest"), {"specialty": doctor.specialty_id, "place": place}
    )
    page = response.content.decode()
    assert response.status_code == 200
    wanted = "Выберите район или свою поликлинику" + (" из списка." if place else ".")
    assert wanted in page
    assert "<script>" not in page
    # The choices are still offered: her own clinic and every district by name.
    assert 'value="attached"' in page and home_clinic.district.name in page
    assert f'<option value="{doctor.specialty_id}"' in page


def _queries(client, url) -> int:
    """Statements of a page in the steady state: the first visit after a directory change
    fills the process's directory cache (directory.cache), the second is counted."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_query_counts_do_not_grow_with_data(as_patient, patient, doctor, home_clinic, settings):
    settings.NEAREST_CACHE_SECONDS = 0  # count the ranking query on every request

    def urls():
        return [
            reverse("scheduling:booking_start"),
            reverse("scheduling:booking_district", args=[home_clinic.district_id]),
            reverse("scheduling:booking_clinic", args=[home_clinic.pk]),
            reverse("scheduling:booking_doctors", args=[home_clinic.pk, doctor.specialty_id]),
            reverse("scheduling:booking_days", args=[doctor.pk]),
            reverse("scheduling:appointment_list"),
            reverse("scheduling:booking_nearest")
            + f"?specialty={doctor.specialty_id}&place={home_clinic.district_id}",
        ]

    AppointmentFactory(patient=patient.patient)
    SlotFactory(doctor=doctor)
    as_patient.get("/cabinet/")  # the session's first touch writes it once; not a page cost
    small = [_queries(as_patient, url) for url in urls()]
    for n in range(6):
        other = DoctorFactory(clinic=home_clinic, specialty=specialty(f"s{n}", "direct", "all"))
        DoctorFactory(clinic=home_clinic, specialty=doctor.specialty)
        SlotFactory.create_batch(3, doctor=other)
        SlotFactory.create_batch(3, doctor=doctor)
        AppointmentFactory(patient=patient.patient, slot__doctor=other)
    big = [_queries(as_patient, url) for url in urls()]
    assert big == small


def test_the_confirmation_page_explains_a_slot_that_is_not_open_yet(as_patient, make_slot):
    later = make_slot(opens_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1))
    page = as_patient.get(reverse("scheduling:booking_confirm", args=[later.pk])).content.decode()
    assert "Запись на это время ещё не открыта" in page
    assert ">Записаться</button>" not in page


def test_booking_and_cancelling_record_the_device_for_the_journal(as_patient, patient, slot):
    chrome_on_windows = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0 Safari/537.36"
    )
    as_patient.post(
        reverse("scheduling:booking_confirm", args=[slot.pk]),
        {"key": str(uuid.uuid4())},
        HTTP_USER_AGENT=chrome_on_windows,
    )
    appointment = Appointment.objects.get()
    as_patient.post(
        reverse("scheduling:appointment_cancel", args=[appointment.pk]),
        HTTP_USER_AGENT=chrome_on_windows,
    )
    from portal.audit.models import AuditAction, AuditEvent

    devices = dict(
        AuditEvent.objects.filter(
            action__in=[AuditAction.APPOINTMENT_BOOKED, AuditAction.APPOINTMENT_CANCELLED]
        ).values_list("action", "details__device")
    )
    assert devices == {
        AuditAction.APPOINTMENT_BOOKED: "Chrome, Windows",
        AuditAction.APPOINTMENT_CANCELLED: "Chrome, Windows",
    }
