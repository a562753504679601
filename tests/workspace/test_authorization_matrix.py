"""Every workspace URL × every persona, staff logged in with both factors.

Mirrors tests/hardening/test_authorization_matrix.py (where staff have a password-only
session): a new workspace URL that nobody put in MATRIX fails this test. The world's
objects belong to the guardian's clinic (``home_clinic``): its clerk and head may act on
them, the other clinic's clerk gets 404, citizens a 403 page pointing to their cabinet.
"""

import datetime
import uuid

import pytest
from django.test import Client
from django.urls import get_resolver
from django.utils import timezone

from portal.patients.models import InsuredPerson
from portal.scheduling.models import ScheduleRule
from tests.factories import (
    AppointmentFactory,
    DoctorFactory,
    InsuranceCompanyFactory,
    SlotFactory,
)
from tests.hardening.test_authorization_matrix import _fill, _patterns
from tests.workspace.conftest import verified_client

COLUMNS = (
    "anonymous",
    "patient",
    "guardian",
    "stranger",
    "clerk",
    "other_clerk",
    "head",
    "operator",
)
LOGIN = 302
HOME = 302  # a logged-in staff member on the login page goes to the workspace
MATRIX = {
    #                                  anon   patient guard. strang. clerk  other  head   oper.
    "workspace:login":              {"GET": (200, 200,  200,   200,    HOME,  HOME,  HOME,  HOME)},
    "workspace:login_code":         {"GET": (302, 302,  302,   302,    302,   302,   302,   302)},
    "workspace:home":               {"GET": (LOGIN, 403, 403,  403,    200,   200,   200,   200)},
    "workspace:day_list":           {"GET": (LOGIN, 403, 403,  403,    200,   400,   200,   200)},
    "workspace:absence_list":       {"GET": (LOGIN, 403, 403,  403,    200,   200,   200,   200)},
    # An empty POST is the form again with what is missing; the other clinic's doctor is
    # not among the choices, so nothing of clinic A can be posted by clinic B.
    "workspace:absence_new":        {"GET": (LOGIN, 403, 403,  403,    200,   200,   200,   200),
                                     "POST": (LOGIN, 403, 403, 403,    400,   400,   400,   400)},
    # Figures for the head and the operator; clerks are told who sees them. The other
    # clinic's clerk is refused by role before any clinic is chosen.
    "workspace:dashboard":          {"GET": (LOGIN, 403, 403,  403,    403,   403,   200,   200)},
    "workspace:dashboard_csv":      {"GET": (LOGIN, 403, 403,  403,    403,   403,   200,   400)},
    # The directory is the operator's; an empty or partial POST is the form with errors.
    "workspace:directory_list":     {"GET": (LOGIN, 403, 403,  403,    403,   403,   403,   200)},
    "workspace:directory_new":      {"GET": (LOGIN, 403, 403,  403,    403,   403,   403,   200),
                                     "POST": (LOGIN, 403, 403, 403,    403,   403,   403,   400)},
    "workspace:directory_edit":     {"GET": (LOGIN, 403, 403,  403,    403,   403,   403,   200),
                                     "POST": (LOGIN, 403, 403, 403,    403,   403,   403,   400)},
    "workspace:phone_search":       {"GET": (LOGIN, 403, 403,  403,    200,   200,   200,   200)},
    # A registry person opens only after this session's search found them (docs/security.md):
    # walked to by id, it is a 404 for every staff member (tests/workspace/test_phone_booking.py
    # opens and books the found person).
    "workspace:phone_person":       {"GET": (LOGIN, 403, 403,  403,    404,   404,   404,   404)},
    # The clerk books the free slot; the other clinic's clerk is 404; head and operator
    # are then refused (taken) and sent back to the slot list.
    "workspace:phone_book":         {"POST": (LOGIN, 403, 403, 403,    404,   404,   404,   404)},
    "workspace:appointment_attendance":
                                    {"POST": (LOGIN, 403, 403, 403,    302,   404,   302,   302)},
    # Schedules: the clinic's own doctors; the other clinic's clerk gets 404 for the
    # doctor and its rules. An empty POST is the rule form with what is missing.
    "workspace:schedule_index":     {"GET": (LOGIN, 403, 403,  403,    200,   200,   200,   200)},
    "workspace:schedule_doctor":    {"GET": (LOGIN, 403, 403,  403,    200,   404,   200,   200)},
    "workspace:schedule_rule_new":  {"GET": (LOGIN, 403, 403,  403,    200,   404,   200,   200),
                                     "POST": (LOGIN, 403, 403, 403,    400,   404,   400,   400)},
    "workspace:schedule_rule_edit": {"GET": (LOGIN, 403, 403,  403,    200,   404,   200,   200),
                                     "POST": (LOGIN, 403, 403, 403,    400,   404,   400,   400)},
    # Guardianships of children attached to the clinic: the other clinic's clerk gets 404;
    # the operator sees the list, and a confirm is refused with where to send the parent.
    "workspace:guardianship_list":  {"GET": (LOGIN, 403, 403,  403,    200,   200,   200,   200)},
    "workspace:guardianship_confirm":
                                    {"POST": (LOGIN, 403, 403, 403,    302,   404,   302,   302)},
    # The patient card (a patient of the clinic): the other clinic's clerk gets 404 for the
    # card and every appointment; cancelling or moving one that has begun is refused with
    # a message (back to the card, or the move page again with 409).
    "workspace:patient_search":     {"GET": (LOGIN, 403, 403,  403,    200,   200,   200,   200)},
    "workspace:patient_card":       {"GET": (LOGIN, 403, 403,  403,    200,   404,   200,   200)},
    "workspace:patient_book":       {"GET": (LOGIN, 403, 403,  403,    200,   404,   200,   200),
                                     "POST": (LOGIN, 403, 403, 403,    302,   404,   302,   302)},
    "workspace:appointment_cancel": {"GET": (LOGIN, 403, 403,  403,    200,   404,   200,   200),
                                     "POST": (LOGIN, 403, 403, 403,    302,   404,   302,   302)},
    "workspace:appointment_move":   {"GET": (LOGIN, 403, 403,  403,    200,   404,   200,   200),
                                     "POST": (LOGIN, 403, 403, 403,    409,   404,   409,   409)},
    # The window: a ticket of the clinic opens its appointment; another clinic's is 404.
    "workspace:window":             {"GET": (LOGIN, 403, 403,  403,    200,   200,   200,   200)},
    "workspace:ticket":             {"GET": (LOGIN, 403, 403,  403,    302,   404,   302,   302)},
    "workspace:appointment_detail": {"GET": (LOGIN, 403, 403,  403,    200,   404,   200,   200)},
    "workspace:appointment_arrived":
                                    {"POST": (LOGIN, 403, 403, 403,    302,   404,   302,   302)},
    "workspace:logout":             {"POST": (302, 302, 302,   302,    302,   302,   302,   302)},
}  # fmt: skip


def _post_data(name: str, world: dict) -> dict:
    if name in ("workspace:phone_book", "workspace:patient_book", "workspace:appointment_move"):
        return {"slot": world["free_slot"], "idempotency_key": str(uuid.uuid4())}
    if name == "workspace:guardianship_confirm":
        return {"documents_seen": "1"}
    return {"attended": "0"}


@pytest.fixture
def world(guardian, child, home_clinic):
    doctor = DoctorFactory(clinic=home_clinic)
    now = timezone.now()
    slot = SlotFactory(
        doctor=doctor,
        starts_at=now,
        ends_at=now + datetime.timedelta(minutes=20),
        opens_at=now - datetime.timedelta(days=2),
        status="booked",
    )
    appointment = AppointmentFactory(
        patient=child, booked_by=guardian, slot=slot, ticket_number="123456789012"
    )
    day = timezone.localtime(slot.starts_at).date().isoformat()
    person = InsuredPerson.objects.create(
        policy_kind="E",
        policy_number="7700000000000029",
        last_name="Звонкова",
        first_name="Вера",
        birth_date=datetime.date(1960, 5, 5),
        sex="F",
        insurer=InsuranceCompanyFactory(),
        clinic=home_clinic,
    )
    rule = ScheduleRule.objects.create(doctor=doctor)
    return {
        "doctor_id": doctor.pk,
        "rule_id": rule.pk,
        "guardianship_id": child.guardians.get().pk,
        "appointment_id": appointment.pk,
        "patient_id": child.pk,
        "code": appointment.ticket_number,
        "person_id": person.pk,
        "section": "clinic",
        "pk": home_clinic.pk,
        "free_slot": SlotFactory(doctor=doctor).pk,
        "query": f"?clinic={home_clinic.pk}&doctor={doctor.pk}&date={day}",
    }


@pytest.mark.django_db
def test_every_workspace_url_gives_each_persona_the_expected_status(
    world, patient, guardian, stranger, clerk, other_clerk, head, operator
):
    citizens = {"patient": patient, "guardian": guardian, "stranger": stranger}
    staff = {"clerk": clerk, "other_clerk": other_clerk, "head": head, "operator": operator}
    urls = [
        (name, _fill(route, world))
        for name, route in _patterns(get_resolver().url_patterns)
        if name.startswith("workspace:")
    ]
    assert {name for name, _ in urls} == set(MATRIX), "a workspace URL is missing from MATRIX"

    mismatches = []
    for persona in COLUMNS:
        if persona in staff:
            browser = verified_client(staff[persona])
        else:
            browser = Client()
            if persona in citizens:
                browser.force_login(citizens[persona])
        # Logout last: it ends the session the other rows need.
        for name, url in sorted(urls, key=lambda item: item[0] == "workspace:logout"):
            for method, row in MATRIX[name].items():
                expected = row[COLUMNS.index(persona)]
                target = url + (world["query"] if name == "workspace:day_list" else "")
                if method == "GET":
                    response = browser.get(target)
                else:
                    response = browser.post(target, _post_data(name, world))
                if response.status_code != expected:
                    mismatches.append(
                        f"{method} {target} as {persona}: {response.status_code}, "
                        f"expected {expected}"
                    )
    assert not mismatches, "\n".join(mismatches)
