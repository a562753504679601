"""Schedules (issue 13): a clerk edits a doctor's weekly rules, sees what the change creates
and removes, and publishes it; a booked appointment is never removed silently.

Days are counted from today; the doctor works Monday to Friday unless a test says else,
and tests pick the next working day that is not a public holiday.
"""

import datetime

import holidays
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.audit.models import AuditAction, AuditEvent
from portal.notifications.models import Kind, Message
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Appointment, ScheduleRule, Slot
from portal.scheduling.schedule_changes import ExistingSlot, rule_problems, schedule_diff
from portal.scheduling.services import RuleDraft, schedule_publish
from portal.scheduling.slot_generation import slots_generate
from tests.factories import (
    AppointmentFactory,
    ChildFactory,
    DoctorFactory,
    GuardianshipFactory,
    PatientFactory,
)

TZ = timezone.get_current_timezone


def _workday(offset: int = 2) -> datetime.date:
    """The first Monday-to-Friday day, at least ``offset`` days ahead, that is no holiday."""
    day = timezone.localdate() + datetime.timedelta(days=offset)
    public = holidays.country_holidays("RU", years={day.year, day.year + 1})
    while day.isoweekday() > 5 or day in public:
        day += datetime.timedelta(days=1)
    return day


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=TZ())


def _draft(**changes) -> RuleDraft:
    values = {
        "weekdays": "12345",
        "start_time": datetime.time(8, 0),
        "end_time": datetime.time(12, 0),
        "break_start": None,
        "break_end": None,
        "slot_minutes": 20,
        "days_ahead": 14,
        "opens_at": datetime.time(7, 0),
        "valid_from": None,
        "valid_until": None,
    }
    return RuleDraft(**{**values, **changes})


# --- the pure diff ----------------------------------------------------------------------


def _existing(pk, day, hour, minute=0, length=20, status="free"):
    start = _at(day, hour, minute)
    return ExistingSlot(pk, start, start + datetime.timedelta(minutes=length), status, start)


def _diff(rules, existing, absences=()):
    return schedule_diff(
        doctor_id=1,
        rules=rules,
        existing=existing,
        absences=list(absences),
        today=timezone.localdate(),
        now=timezone.now(),
    )


def test_shorter_hours_block_the_free_time_and_list_the_booked_one_outside_them():
    day = _workday()
    existing = [
        _existing(1, day, 8),
        _existing(2, day, 11, 40, status="booked"),
        _existing(3, day, 11, 20),
    ]
    diff = _diff([_draft(end_time=datetime.time(11, 0))], existing)
    assert diff.cancel == [2]
    assert diff.block == [3]
    assert 1 not in diff.block  # 08:00 is still worked
    created = {row[1] for row in diff.create}
    assert _at(day, 8, 20) in created and _at(day, 11, 20) not in created


def test_a_booked_time_still_inside_the_hours_stays_and_nothing_overlaps_it():
    day = _workday()
    # Booked 08:10–08:30 under an old grid; the new rule cuts 30-minute slots from 08:00.
    existing = [_existing(1, day, 8, 10, status="booked")]
    diff = _diff([_draft(slot_minutes=30)], existing)
    assert diff.cancel == [] and diff.kept_booked == 1
    starts = {row[1] for row in diff.create if row[1].date() == day}
    assert _at(day, 8, 0) not in starts and _at(day, 8, 30) in starts


def test_a_new_length_reuses_the_free_row_at_the_same_start():
    day = _workday()
    diff = _diff([_draft(slot_minutes=30)], [_existing(7, day, 8)])
    assert [r.pk for r in diff.retime] == [7]
    assert diff.retime[0].ends_at == _at(day, 8, 30)
    assert 7 not in diff.block


def test_holidays_get_no_slots_and_absences_get_blocked_ones():
    day = _workday()
    diff = _diff([_draft()], [], absences=[(day, day)])
    on_day = [row for row in diff.create if timezone.localtime(row[1]).date() == day]
    assert on_day and {row[3] for row in on_day} == {"blocked"}
    public = holidays.country_holidays(
        "RU", years={d.year for d in (diff.first_day, diff.last_day)}
    )
    assert not any(timezone.localtime(row[1]).date() in public for row in diff.create)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end_time": datetime.time(8, 0)}, "end_time"),
        ({"break_start": datetime.time(10, 0)}, "break_end"),
        ({"break_start": datetime.time(10, 0), "break_end": datetime.time(9, 0)}, "break_end"),
        ({"break_start": datetime.time(7, 0), "break_end": datetime.time(9, 0)}, "break_start"),
        ({"slot_minutes": 3}, "slot_minutes"),
        ({"slot_minutes": 300}, "slot_minutes"),
        ({"end_time": datetime.time(8, 10)}, "slot_minutes"),
        ({"days_ahead": 0}, "days_ahead"),
        ({"days_ahead": 61}, "days_ahead"),
        ({"weekdays": ""}, "weekdays"),
        ({"weekdays": "89"}, "weekdays"),
        ({"valid_from": datetime.date(2030, 2, 1), "valid_until": datetime.date(2030, 1, 1)},
         "valid_until"),
    ],
)  # fmt: skip
def test_a_bad_rule_is_refused_field_by_field(changes, field):
    problems = rule_problems(_draft(**changes), timezone.localdate())
    assert problems.get(field)


# --- publishing --------------------------------------------------------------------------


@pytest.fixture
def doctor_week(home_clinic, guardian, child):
    """A doctor on 08:00–12:00, slots generated; the child booked at 11:40 on a working day."""
    doctor = DoctorFactory(clinic=home_clinic, last_name="Графикова")
    rule = ScheduleRule.objects.create(
        doctor=doctor, weekdays="12345", start_time=datetime.time(8), end_time=datetime.time(12)
    )
    slots_generate(start=timezone.localdate(), days=16, doctor_ids=[doctor.pk])
    day = _workday()
    slot = Slot.objects.get(doctor=doctor, starts_at=_at(day, 11, 40))
    Slot.objects.filter(pk=slot.pk).update(status=Slot.Status.BOOKED)
    appointment = AppointmentFactory(slot=slot, patient=child, booked_by=guardian)
    return {"doctor": doctor, "rule": rule, "day": day, "appointment": appointment}


def _form(**changes) -> dict:
    data = {
        "weekdays": ["1", "2", "3", "4", "5"],
        "start_time": "08:00",
        "end_time": "11:00",
        "break_start": "",
        "break_end": "",
        "slot_minutes": "20",
        "days_ahead": "14",
        "opens_at": "07:00",
        "valid_from": "",
        "valid_until": "",
        "reason": "Врач переходит на вторую смену",
    }
    return {**data, **changes}


def _hidden(html: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


@pytest.mark.django_db
def test_the_clerk_previews_then_publishes_and_the_family_is_told(
    as_staff, clerk, doctor_week, guardian
):
    doctor, rule, appointment = (
        doctor_week["doctor"],
        doctor_week["rule"],
        doctor_week["appointment"],
    )
    guardian.patient.email = "mother@example.ru"
    guardian.patient.save(update_fields=["email"])
    browser = as_staff(clerk)
    url = reverse("workspace:schedule_rule_edit", args=[doctor.pk, rule.pk])
    assert browser.get(reverse("workspace:schedule_doctor", args=[doctor.pk])).status_code == 200
    assert browser.get(url).status_code == 200

    preview = browser.post(url, _form())
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "Что изменится" in html and appointment.ticket_number in html
    # The preview changed nothing.
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert ScheduleRule.objects.get(pk=rule.pk).end_time == datetime.time(12)

    confirm = _form(
        confirm="1", previewed=_hidden(html, "previewed"), expected=_hidden(html, "expected")
    )
    response = browser.post(url, confirm)
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED_CLINIC
    assert appointment.cancel_reason == "Врач переходит на вторую смену"
    assert Slot.objects.get(pk=appointment.slot_id).status == Slot.Status.BLOCKED
    assert ScheduleRule.objects.get(pk=rule.pk).end_time == datetime.time(11)
    # No free time is left after 11:00, and nothing booked is there.
    day = doctor_week["day"]
    late = Slot.objects.filter(
        doctor=doctor, starts_at__gte=_at(day, 11), starts_at__lt=_at(day, 23)
    )
    assert set(late.values_list("status", flat=True)) == {Slot.Status.BLOCKED}
    assert AuditEvent.objects.filter(
        action=AuditAction.APPOINTMENT_CANCELLED_BY_CLINIC,
        patient=appointment.patient,
        user=clerk,
        details__schedule_rule=rule.pk,
    ).exists()
    told = set(
        Message.objects.filter(appointment=appointment, kind=Kind.CANCELLED_BY_CLINIC).values_list(
            "recipient_id", flat=True
        )
    )
    assert guardian.patient.pk in told


@pytest.mark.django_db
def test_a_booking_made_after_the_preview_is_not_cancelled_unseen(as_staff, clerk, doctor_week):
    doctor, rule, day = doctor_week["doctor"], doctor_week["rule"], doctor_week["day"]
    browser = as_staff(clerk)
    url = reverse("workspace:schedule_rule_edit", args=[doctor.pk, rule.pk])
    html = browser.post(url, _form()).content.decode()
    # Between the preview and the click a patient takes 11:20, which the change removes.
    late = Slot.objects.get(doctor=doctor, starts_at=_at(day, 11, 20))
    Slot.objects.filter(pk=late.pk).update(status=Slot.Status.BOOKED)
    newcomer = AppointmentFactory(slot=late, patient=PatientFactory())
    confirm = _form(
        confirm="1", previewed=_hidden(html, "previewed"), expected=_hidden(html, "expected")
    )
    response = browser.post(url, confirm)
    assert response.status_code == 409
    text = response.content.decode()
    assert "Посмотрите изменения ещё раз" in text and newcomer.ticket_number in text
    newcomer.refresh_from_db()
    assert newcomer.status == Appointment.Status.BOOKED
    assert ScheduleRule.objects.get(pk=rule.pk).end_time == datetime.time(12)  # no trace


@pytest.mark.django_db
def test_changed_fields_after_the_preview_are_previewed_again(as_staff, clerk, doctor_week):
    doctor, rule = doctor_week["doctor"], doctor_week["rule"]
    browser = as_staff(clerk)
    url = reverse("workspace:schedule_rule_edit", args=[doctor.pk, rule.pk])
    html = browser.post(url, _form()).content.decode()
    confirm = _form(
        end_time="10:00",
        confirm="1",
        previewed=_hidden(html, "previewed"),
        expected=_hidden(html, "expected"),
    )
    response = browser.post(url, confirm)
    assert response.status_code == 200 and "Что изменится" in response.content.decode()
    assert ScheduleRule.objects.get(pk=rule.pk).end_time == datetime.time(12)


@pytest.mark.django_db
def test_a_new_rule_creates_the_slots_of_the_horizon(as_staff, clerk, home_clinic):
    doctor = DoctorFactory(clinic=home_clinic)
    browser = as_staff(clerk)
    url = reverse("workspace:schedule_rule_new", args=[doctor.pk])
    form = _form(weekdays=["6"], start_time="09:00", end_time="10:00", days_ahead="30")
    html = browser.post(url, form).content.decode()
    assert "Ни одна запись не будет отменена" in html
    response = browser.post(
        url, {**form, "confirm": "1", "previewed": _hidden(html, "previewed"), "expected": ""}
    )
    assert response.status_code == 302
    rule = ScheduleRule.objects.get(doctor=doctor)
    assert rule.days_ahead == 30 and rule.weekdays == "6"
    slots = Slot.objects.filter(doctor=doctor)
    assert slots.exists() and all(timezone.localtime(s.starts_at).isoweekday() == 6 for s in slots)
    # Each Saturday opens 30 days ahead at 07:00 local.
    slot = slots.first()
    opens = timezone.localtime(slot.opens_at)
    assert (timezone.localtime(slot.starts_at).date() - opens.date()).days == 30
    assert opens.time() == datetime.time(7, 0)


@pytest.mark.django_db
def test_ending_a_rule_closes_its_future_time(as_staff, clerk, doctor_week):
    doctor, rule = doctor_week["doctor"], doctor_week["rule"]
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    result = schedule_publish(
        actor=clerk,
        doctor=doctor,
        rule_id=rule.pk,
        draft=RuleDraft.of(rule, valid_until=yesterday),
        reason="Врач уволился",
    )
    assert [a.pk for a in result.cancelled] == [doctor_week["appointment"].pk]
    future = Slot.objects.filter(doctor=doctor, starts_at__gt=timezone.now())
    assert set(future.values_list("status", flat=True)) == {Slot.Status.BLOCKED}
    page = as_staff(clerk).get(reverse("workspace:schedule_doctor", args=[doctor.pk]))
    assert "Завершённые правила" in page.content.decode()
    assert "У врача нет действующих правил" in page.content.decode()


@pytest.mark.django_db
def test_overlapping_rules_are_refused_with_what_to_do(as_staff, clerk, doctor_week):
    doctor = doctor_week["doctor"]
    browser = as_staff(clerk)
    response = browser.post(
        reverse("workspace:schedule_rule_new", args=[doctor.pk]),
        _form(start_time="11:00", end_time="13:00"),
    )
    assert response.status_code == 400
    assert "пересекается с другим правилом" in response.content.decode()


# --- who may, and hostile input ---------------------------------------------------------


@pytest.mark.django_db
def test_another_clinics_clerk_sees_nothing_of_the_doctor(as_staff, other_clerk, doctor_week):
    doctor, rule = doctor_week["doctor"], doctor_week["rule"]
    browser = as_staff(other_clerk)
    for url in (
        reverse("workspace:schedule_doctor", args=[doctor.pk]),
        reverse("workspace:schedule_rule_new", args=[doctor.pk]),
        reverse("workspace:schedule_rule_edit", args=[doctor.pk, rule.pk]),
    ):
        assert browser.get(url).status_code == 404
        assert browser.post(url, _form()).status_code == 404
    assert "Графикова" not in browser.get(reverse("workspace:schedule_index")).content.decode()
    with pytest.raises(BookingRefused) as refusal:
        schedule_publish(
            actor=other_clerk, doctor=doctor, rule_id=rule.pk, draft=_draft(), reason="x"
        )
    assert refusal.value.code == "clinic_cancel_foreign"


@pytest.mark.django_db
def test_a_rule_id_of_another_doctor_is_404(as_staff, clerk, doctor_week, home_clinic):
    other = DoctorFactory(clinic=home_clinic)
    foreign_rule = ScheduleRule.objects.create(doctor=other)
    browser = as_staff(clerk)
    url = reverse("workspace:schedule_rule_edit", args=[doctor_week["doctor"].pk, foreign_rule.pk])
    assert browser.get(url).status_code == 404
    assert browser.get("/workspace/schedules/999999/").status_code == 404
    assert browser.get("/workspace/schedules/abc/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"start_time": "25:99"}, "ЧЧ:ММ"),
        ({"end_time": "<script>"}, "ЧЧ:ММ"),
        ({"end_time": "07:00"}, "Конец приёма должен быть позже начала"),
        ({"break_start": "13:00", "break_end": "13:30"}, "Перерыв должен быть внутри часов"),
        ({"slot_minutes": "-5"}, "от 5 до 120"),
        ({"slot_minutes": "двадцать"}, "от 5 до 120"),
        ({"days_ahead": "999"}, "от 1 до 60"),
        ({"weekdays": ["8"]}, "Выберите корректный вариант"),
        ({"valid_until": "2020-01-01"}, "прошедшие дни не меняются"),
        ({"valid_from": "2030-02-31"}, "ГГГГ-ММ-ДД"),
    ],
)
def test_bad_input_is_a_russian_message_and_changes_nothing(
    as_staff, clerk, doctor_week, changes, text
):
    doctor, rule = doctor_week["doctor"], doctor_week["rule"]
    before = list(Slot.objects.filter(doctor=doctor).values_list("pk", "status", "ends_at"))
    browser = as_staff(clerk)
    url = reverse("workspace:schedule_rule_edit", args=[doctor.pk, rule.pk])
    response = browser.post(url, _form(confirm="1", **changes))
    assert response.status_code == 400
    assert text.lower() in response.content.decode().lower()
    assert list(Slot.objects.filter(doctor=doctor).values_list("pk", "status", "ends_at")) == before


@pytest.mark.django_db
def test_publishing_needs_the_csrf_token(clerk, doctor_week):
    from tests.workspace.conftest import verified_client

    browser = verified_client(clerk)
    browser.handler.enforce_csrf_checks = True
    doctor, rule = doctor_week["doctor"], doctor_week["rule"]
    url = reverse("workspace:schedule_rule_edit", args=[doctor.pk, rule.pk])
    assert browser.post(url, _form(confirm="1")).status_code == 403
    assert ScheduleRule.objects.get(pk=rule.pk).end_time == datetime.time(12)


@pytest.mark.django_db
def test_citizens_never_reach_a_schedule(patient, doctor_week):
    browser = Client()
    browser.force_login(patient)
    url = reverse("workspace:schedule_doctor", args=[doctor_week["doctor"].pk])
    assert browser.get(url).status_code == 403
    assert Client().get(url).status_code == 302


@pytest.mark.django_db
def test_a_child_with_two_guardians_tells_both(clerk, home_clinic):
    doctor = DoctorFactory(clinic=home_clinic)
    rule = ScheduleRule.objects.create(
        doctor=doctor, weekdays="12345", start_time=datetime.time(8), end_time=datetime.time(12)
    )
    slots_generate(start=timezone.localdate(), days=16, doctor_ids=[doctor.pk])
    kid = ChildFactory(clinic=home_clinic)
    mother, father = PatientFactory(email="m@example.ru"), PatientFactory(email="f@example.ru")
    GuardianshipFactory(guardian=mother, child=kid)
    GuardianshipFactory(guardian=father, child=kid, relation="daughter")
    slot = Slot.objects.get(doctor=doctor, starts_at=_at(_workday(), 9))
    Slot.objects.filter(pk=slot.pk).update(status=Slot.Status.BOOKED)
    appointment = AppointmentFactory(slot=slot, patient=kid, booked_by=mother.user)
    schedule_publish(
        actor=clerk,
        doctor=doctor,
        rule_id=rule.pk,
        draft=RuleDraft.of(rule, weekdays="6"),
        reason="Врач принимает по субботам",
    )
    told = set(
        Message.objects.filter(appointment=appointment).values_list("recipient_id", flat=True)
    )
    assert {mother.pk, father.pk} <= told
