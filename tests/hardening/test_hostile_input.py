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
from tests.workspace.conftest import verified_client as _verified_client

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
        client.get(reverse("journal:page", args=[patient.patient.pk]), {"page": page}),
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
        reverse("journal:page", args=[child.pk]),
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


# --- Digits that are not 0-9, dates at the edge of the calendar, hostile ESIA data ----

SUPERSCRIPT_ENP = "²" * 16  # str.isdigit() is true, int() fails
ARABIC_INDIC = "١٠٠٠٣٢٠٠٠١"  # int() reads it as 1000320001


@pytest.mark.parametrize("number", [SUPERSCRIPT_ENP, "²" * 9, "38010101010101²6", ARABIC_INDIC])
def test_a_policy_of_lookalike_digits_is_refused_with_a_message(client, guardian, number):
    client.force_login(guardian)
    response = client.post(
        reverse("patients:relative_add"),
        {
            "last_name": "Иванова", "first_name": "Мария", "birth_date": "2015-12-01",
            "sex": "F", "relation": "daughter", "policy_number": number,
        },
    )  # fmt: skip
    assert response.status_code == 400
    assert "обычными цифрами 0–9" in response.content.decode()


def test_own_policy_of_superscript_digits_is_refused_with_a_message(client, no_policy_user):
    client.force_login(no_policy_user)
    response = client.post(reverse("patients:personal"), {"policy_number": SUPERSCRIPT_ENP})
    assert response.status_code == 200
    assert "обычными цифрами 0–9" in response.content.decode()


def test_lookalike_digits_never_pass_the_identifier_checks():
    from portal.patients.validators import is_valid_enp, is_valid_snils

    assert not is_valid_enp(SUPERSCRIPT_ENP)
    assert not is_valid_enp("٣٨٠١٠١٠١٠١٠١٠١٢٦")  # 3801010101010126 in Arabic-Indic
    assert not is_valid_snils("١٥٦-٣٠١-٧٨٩ ٥٨")
    assert is_valid_enp("3801010101010126")


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "٢٠٢٦-٠١-٠١"])
def test_a_day_at_the_edge_of_the_calendar_is_not_found_not_a_crash(client, patient, slot, day):
    client.force_login(patient)
    response = client.get(f"/booking/doctor/{slot.doctor_id}/{quote(day)}/")
    assert response.status_code == 404


def test_a_day_in_range_still_lists_the_times(client, patient, slot):
    from django.utils import timezone

    client.force_login(patient)
    day = timezone.localtime(slot.starts_at).date().isoformat()
    assert client.get(f"/booking/doctor/{slot.doctor_id}/{day}/").status_code == 200


def _esia_answers(monkeypatch, change):
    """The real emulator login, with ESIA's person data changed by ``change``."""
    from portal.identity import esia

    original = esia.person_fetch

    def hostile(*args, **kwargs):
        person = original(*args, **kwargs)
        change(person)
        return person

    monkeypatch.setattr(esia, "person_fetch", hostile)


def test_a_nul_and_control_characters_in_esia_names_do_not_break_the_login(
    client, esia_setup, monkeypatch
):
    from portal.patients.models import Patient
    from tests.identity.test_login_flow import ANNA, login_as_persona

    def nul_names(person):
        person.person["lastName"] = "Иван\x00ова"
        person.person["firstName"] = "Анна\r\nX-Forged: 1"
        person.kids[0]["lastName"] = "Иван\x00ова"

    _esia_answers(monkeypatch, nul_names)
    response = login_as_persona(client, ANNA)
    assert response.status_code == 302 and response["Location"] == "/cabinet/"
    patient = Patient.objects.get(esia_oid=ANNA)
    assert (patient.last_name, patient.first_name) == ("Иванова", "АннаX-Forged: 1")
    assert all("\x00" not in kid["last_name"] for kid in patient.esia_kids)


def test_a_superscript_policy_from_esia_is_not_kept_and_the_login_succeeds(
    client, esia_setup, monkeypatch
):
    from portal.patients.models import Patient
    from tests.identity.test_login_flow import ANNA, login_as_persona

    def superscript_policy(person):
        for doc in person.documents:
            if doc.get("type") == "MDCL_PLCY":
                doc["number"] = SUPERSCRIPT_ENP
        for kid in person.kids:
            for doc in kid.get("documents", {}).get("elements", []):
                doc["number"] = "²" * 9

    _esia_answers(monkeypatch, superscript_policy)
    response = login_as_persona(client, ANNA)
    assert response.status_code == 302
    patient = Patient.objects.get(esia_oid=ANNA)
    assert "²" not in patient.policy_number
    assert all(kid["policy_number"] == "" for kid in patient.esia_kids)


@pytest.mark.parametrize(
    ("sub", "reason"),
    [(ARABIC_INDIC, "sub"), ("1" * 33, "sub"), ("1000320001\x00", "sub"), ("²", "sub")],
)
def test_an_id_token_with_a_foreign_or_overlong_oid_is_refused(esia_setup, sub, reason):
    from tests.identity.test_id_token import _reason, _token

    assert _reason(_token(esia_setup, sub=sub)) == reason


@pytest.mark.parametrize("exp", [float("nan"), float("inf"), True, "9999999999"])
def test_an_id_token_with_a_meaningless_expiry_is_refused(esia_setup, exp):
    from tests.identity.test_id_token import _reason, _token

    assert _reason(_token(esia_setup, exp=exp)) == "expired"


def test_an_rs256_header_against_the_gost_certificate_is_refused_not_a_crash(esia_setup):
    from portal.identity import jwt
    from tests.identity.test_id_token import _reason, _token

    _head, body, signature = _token(esia_setup).split(".")
    rs_head = jwt.b64url(b'{"alg":"RS256","typ":"JWT"}')
    assert _reason(f"{rs_head}.{body}.{signature}") == "signature"


# --- the workspace's dates (issue 24, point 5: 9999-12-31 was a 500) ---------------------


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_workspace_day_list_at_the_edge_of_the_calendar_is_a_form_error(
    clerk, home_clinic, day
):
    browser = _verified_client(clerk)
    response = browser.get("/workspace/day/", {"clinic": home_clinic.pk, "date": day})
    assert response.status_code in (200, 400)
    assert "text/html" in response["Content-Type"]


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_an_absence_at_the_edge_of_the_calendar_is_a_form_error(clerk, home_clinic, day):
    from tests.factories import DoctorFactory

    doctor = DoctorFactory(clinic=home_clinic)
    browser = _verified_client(clerk)
    response = browser.post(
        "/workspace/absences/new/",
        {
            "doctor": doctor.pk,
            "kind": "sick",
            "starts_on": day,
            "ends_on": day,
            "reason": "",
        },
    )
    assert response.status_code in (200, 400)
    assert "text/html" in response["Content-Type"]


@pytest.mark.django_db
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_schedule_rule_at_the_edge_of_the_calendar_is_a_form_error(head, home_clinic, day):
    from tests.factories import DoctorFactory

    doctor = DoctorFactory(clinic=home_clinic)
    browser = _verified_client(head)
    response = browser.post(
        f"/workspace/schedules/{doctor.pk}/rules/new/",
        {
            "weekdays": ["0"],
            "start_time": "08:00",
            "end_time": "12:00",
            "slot_minutes": "20",
            "days_ahead": "14",
            "valid_from": day,
            "valid_until": day,
        },
    )
    assert response.status_code in (200, 400)
    assert "text/html" in response["Content-Type"]
