"""Hostile input to every form: a validation message or a clean save, never a 500.

Hypothesis mixes very long strings, any Unicode (control characters included), NUL,
HTML/JS payloads, SQL fragments and malformed dates. Example counts stay modest so the
suite stays fast; the payload list guarantees the nasty cases are always tried.
"""

import csv
import io
from urllib.parse import quote

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.patients.registry_import import COLUMNS, ImportFailed, registry_import
from tests.factories import AppointmentFactory, PatientFactory, SlotFactory, born

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "",
    " ",
    "\x00",
    "Иван\x00ов",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE patients_patient; --",
    "1 OR 1=1",
    "../../etc/passwd",
    "\r\nSet-Cookie: x=1",
    "31.02.2015",
    "2015-13-45",
    "99999-01-01",
    "0000-00-00",
    "\u202eиванов",
    "𝕴𝖛𝖆𝖓",
    "Ё" * 5000,
    "9" * 400,
]
hostile = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(max_size=120),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=20),
)
FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NO_500 = {200, 302, 400, 404, 409}


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.RATELIMIT_ENABLE = False  # a fuzzer is a flood by design


RELATIVE_FIELDS = [
    "last_name", "first_name", "middle_name", "birth_date", "sex", "relation",
    "policy_series", "policy_number",
]  # fmt: skip


@FUZZ
@given(values=st.fixed_dictionaries({name: hostile for name in RELATIVE_FIELDS}))
def test_relative_form_never_fails_on_hostile_input(client, guardian, values):
    client.force_login(guardian)
    response = client.post(reverse("patients:relative_add"), values)
    assert response.status_code in {302, 400}
    if any("\x00" in value for value in values.values()) and response.status_code == 400:
        assert "errorlist" in response.content.decode()


def test_a_nul_byte_in_a_name_is_refused_with_a_message(client, guardian):
    client.force_login(guardian)
    response = client.post(
        reverse("patients:relative_add"),
        {"last_name": "Иван\x00ова", "first_name": "Мария", "policy_number": "1"},
    )
    assert response.status_code == 400
    assert "запрещённый символ" in response.content.decode() or "NUL" in response.content.decode()


@pytest.fixture
def no_policy_user(db):
    return PatientFactory(policy_number="", insurer=None).user


@FUZZ
@given(series=hostile, number=hostile)
def test_own_policy_form_never_fails_on_hostile_input(client, no_policy_user, series, number):
    client.force_login(no_policy_user)
    response = client.post(
        reverse("patients:personal"), {"policy_series": series, "policy_number": number}
    )
    assert response.status_code in {200, 302}


@pytest.fixture
def slot(db):
    # Fixtures are made once per test, not per example: the factories' sequences (slot
    # times) stay where other tests expect them.
    return SlotFactory()


@pytest.fixture
def appointment(patient):
    return AppointmentFactory(patient=patient.patient)


@FUZZ
@given(key=hostile, extra=hostile)
def test_booking_confirm_and_cancel_never_fail_on_hostile_input(
    client, patient, slot, appointment, key, extra
):
    client.force_login(patient)
    booked = client.post(
        reverse("scheduling:booking_confirm", args=[slot.pk]), {"key": key, "x": extra}
    )
    assert booked.status_code in {302, 400, 409}
    cancelled = client.post(
        reverse("scheduling:appointment_cancel", args=[appointment.pk]), {"key": key, "x": extra}
    )
    assert cancelled.status_code in {302, 409}


@FUZZ
@given(page=hostile, specialty=hostile, place=hostile, day=hostile)
def test_wizard_and_nearest_query_parameters_never_fail(
    client, patient, slot, page, specialty, place, day
):
    client.force_login(patient)
    checks = [
        client.get(reverse("scheduling:booking_start"), {"page": page}),
        client.get(reverse("directory:district_list"), {"page": page}),
        client.get(reverse("scheduling:booking_nearest"), {"specialty": specialty, "place": place}),
        client.get(reverse("scheduling:booking_days", args=[slot.doctor_id]), {"page": page}),
        client.get(f"/booking/doctor/{slot.doctor_id}/{quote(day, safe='')}/"),
        client.get(reverse("patients:journal", args=[patient.patient.pk]), {"page": page}),
    ]
    for response in checks:
        assert response.status_code in NO_500, response.request


@FUZZ
@given(row=st.fixed_dictionaries({name: hostile for name in COLUMNS}))
def test_registry_rows_are_reported_or_imported_never_crash(row):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, delimiter=";")
    writer.writeheader()
    writer.writerow(row)
    buffer.seek(0)
    try:
        registry_import(buffer)
    except ImportFailed as failed:
        assert failed.errors and all(isinstance(reason, str) for _, reason in failed.errors)


def test_a_registry_row_with_nul_is_reported_not_written():
    text = "policy_number;last_name;first_name;birth_date;sex;insurer_code\n"
    text += f"3802020202020212;Иван\x00ова;Мария;{born(11, 30)};F;38001\n"
    with pytest.raises(ImportFailed) as failed:
        registry_import(io.StringIO(text))
    assert "NUL" in failed.value.errors[0][1]


SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
ROOM = "<b>7</b>"


def test_stored_names_render_escaped_on_every_page_and_in_the_calendar_file(
    client, guardian, home_clinic
):
    from icalendar import Calendar

    from tests.factories import ChildFactory, DoctorFactory, GuardianshipFactory

    child = ChildFactory(last_name=SCRIPT, first_name=IMG, clinic=home_clinic)
    GuardianshipFactory(guardian=guardian.patient, child=child)
    doctor = DoctorFactory(clinic=home_clinic, last_name=f"Смирнов{SCRIPT}\r\nX-EVIL:1", room=ROOM)
    appointment = AppointmentFactory(
        patient=child, booked_by=guardian, slot=SlotFactory(doctor=doctor, status="booked")
    )
    client.force_login(guardian)
    client.post(reverse("patients:acting_switch"), {"patient": child.pk})
    pages = [
        reverse("identity:cabinet"),
        reverse("patients:personal"),
        reverse("patients:journal", args=[child.pk]),
        reverse("scheduling:appointment_list"),
        reverse("scheduling:appointment_ticket", args=[appointment.pk]),
        reverse("scheduling:appointment_cancel", args=[appointment.pk]),
        reverse("scheduling:booking_days", args=[doctor.pk]),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert SCRIPT not in html and IMG not in html and ROOM not in html, url
    assert "&lt;script&gt;" in client.get(reverse("patients:personal")).content.decode()

    ics = client.get(reverse("scheduling:appointment_ics", args=[appointment.pk])).content
    assert not any(line.startswith(b"X-EVIL") for line in ics.splitlines())
    events = Calendar.from_ical(ics).walk("VEVENT")
    assert len(events) == 1 and "X-EVIL" not in events[0]
    assert SCRIPT in str(events[0]["summary"])  # kept as text, not interpreted


def test_a_registry_row_with_an_overlong_insurer_code_is_reported_not_a_database_error():
    text = "policy_number;last_name;first_name;birth_date;sex;insurer_code;insurer_name\n"
    text += f"3802020202020212;Иванова;Мария;{born(11, 30)};F;{'7' * 25};СМО\n"
    with pytest.raises(ImportFailed) as failed:
        registry_import(io.StringIO(text))
    assert "длиннее 20 символов" in failed.value.errors[0][1]
