"""Every patient-facing FHIR interaction × every persona → what each must get (issue 24).

The pages have theirs in `tests/hardening/test_authorization_matrix.py`; this is the API's,
over the same personas of `tests/conftest.py`: the patient (an adult of another family),
the guardian with her child, the unverified guardian (a man who added the child by hand
with her policy, name and birth date), the stranger, the clerk of the child's clinic,
another clinic's clerk, the regional operator, and no token at all. Staff get no token
through the consent page (only a citizen with a patient record consents); they are given
one here anyway, to show that a token for them opens nothing.

The rows are checked against the CapabilityStatement: an interaction or a search
parameter the server declares and this table does not list fails the test.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from portal.api.capability import TYPES
from portal.home_visits.services import visit_cancel_by_applicant, visit_create
from portal.scheduling.models import Appointment
from tests.api.conftest import booking, home_visit_task
from tests.factories import AppointmentFactory, ReferralFactory
from tests.home_visits.conftest import valid_data

pytestmark = pytest.mark.django_db

PERSONAS = (
    "anonymous",
    "patient",
    "guardian",
    "unverified",
    "stranger",
    "clerk",
    "other_clerk",
    "operator",
)
# A search answers 200 either way: SEES when the family's resource is in the bundle,
# HIDDEN when it is not.
SEES, HIDDEN = "sees", "hidden"
Expected = int | str


@dataclass(frozen=True)
class World:
    child: int
    guardianship: int
    appointment: int  # the mother's booking for the child (read, search, PATCH)
    other_appointment: int  # a second one (PUT)
    slot: Callable[[], int]  # a fresh free slot for a booking
    referral: int  # the child's referral (ServiceRequest), issued by her clinic
    visit: int  # the mother's home-visit request for the child, cancelled (docs/home-visits.md)


# (resource, interaction[, search parameter]) -> (method, path, params or body maker)
Call = Callable[[Any, World], Any]


def _get(path: str, **params: str) -> Call:
    return lambda api, w: api.get(
        path.format(**vars(w)), {k: v.format(**vars(w)) for k, v in params.items()}
    )


def _create(api, w: World):
    return api.post("Appointment", booking(w.slot(), w.child))


def _task_create(api, w: World):
    return api.post("Task", home_visit_task(w.child))


def _put(api, w: World):
    body = {
        "resourceType": "Appointment",
        "id": str(w.other_appointment),
        "status": "cancelled",
        "participant": [{"actor": {"reference": f"Patient/{w.child}"}, "status": "accepted"}],
    }
    return api.put(f"Appointment/{w.other_appointment}", body)


def _patch(api, w: World):
    return api.patch_cancel(w.appointment)


# The family's resource a search should or should not find.
TARGET = {
    "Patient": lambda w: w.child,
    "RelatedPerson": lambda w: w.guardianship,
    "Appointment": lambda w: w.appointment,
    "ServiceRequest": lambda w: w.referral,
    "Task": lambda w: w.visit,
}

CALLS: dict[tuple[str, ...], Call] = {
    ("Patient", "read"): _get("Patient/{child}"),
    ("Patient", "search-type"): _get("Patient"),
    ("Patient", "search-type", "_id"): _get("Patient", _id="{child}"),
    ("RelatedPerson", "read"): _get("RelatedPerson/{guardianship}"),
    ("RelatedPerson", "search-type"): _get("RelatedPerson"),
    ("RelatedPerson", "search-type", "patient"): _get("RelatedPerson", patient="Patient/{child}"),
    ("Appointment", "read"): _get("Appointment/{appointment}"),
    ("Appointment", "search-type"): _get("Appointment"),
    ("Appointment", "search-type", "_id"): _get("Appointment", _id="{appointment}"),
    ("Appointment", "search-type", "patient"): _get("Appointment", patient="Patient/{child}"),
    ("Appointment", "search-type", "status"): _get("Appointment", status="booked"),
    ("Appointment", "search-type", "date"): _get("Appointment", date="ge2000-01-01"),
    ("ServiceRequest", "read"): _get("ServiceRequest/{referral}"),
    ("ServiceRequest", "search-type"): _get("ServiceRequest"),
    ("ServiceRequest", "search-type", "_id"): _get("ServiceRequest", _id="{referral}"),
    ("ServiceRequest", "search-type", "patient"): _get("ServiceRequest", patient="Patient/{child}"),
    ("ServiceRequest", "search-type", "status"): _get("ServiceRequest", status="active"),
    ("Appointment", "create"): _create,
    ("Appointment", "update"): _put,
    ("Appointment", "patch"): _patch,
    ("Task", "read"): _get("Task/{visit}"),
    ("Task", "search-type"): _get("Task"),
    ("Task", "search-type", "_id"): _get("Task", _id="{visit}"),
    ("Task", "search-type", "patient"): _get("Task", patient="Patient/{child}"),
    ("Task", "search-type", "status"): _get("Task", status="cancelled"),
    ("Task", "create"): _task_create,
}
S, H = SEES, HIDDEN
ROWS: dict[tuple[str, ...], tuple[Expected, ...]] = {
    #                                          anon pat  grd  unv  str  clk  oth  opr
    ("Patient", "read"):                       (401, 404, 200, 200, 404, 404, 404, 404),
    ("Patient", "search-type"):                (401, H,   S,   S,   H,   H,   H,   H),
    ("Patient", "search-type", "_id"):         (401, H,   S,   S,   H,   H,   H,   H),
    # The guardianship in the world is the mother's: the newcomer sees only his own.
    ("RelatedPerson", "read"):                 (401, 404, 200, 404, 404, 404, 404, 404),
    ("RelatedPerson", "search-type"):          (401, H,   S,   H,   H,   H,   H,   H),
    ("RelatedPerson", "search-type", "patient"): (401, H, S,   H,   H,   H,   H,   H),
    # The mother's booking for the child: hers alone (issue 24, point 1).
    ("Appointment", "read"):                   (401, 404, 200, 404, 404, 404, 404, 404),
    ("Appointment", "search-type"):            (401, H,   S,   H,   H,   H,   H,   H),
    ("Appointment", "search-type", "_id"):     (401, H,   S,   H,   H,   H,   H,   H),
    ("Appointment", "search-type", "patient"): (401, H,   S,   H,   H,   H,   H,   H),
    ("Appointment", "search-type", "status"):  (401, H,   S,   H,   H,   H,   H,   H),
    ("Appointment", "search-type", "date"):    (401, H,   S,   H,   H,   H,   H,   H),
    # The child's referral: hers and her verified mother's; the newcomer sees what he did
    # himself — a clinic issued it, so nothing (docs/referrals.md).
    ("ServiceRequest", "read"):                (401, 404, 200, 404, 404, 404, 404, 404),
    ("ServiceRequest", "search-type"):         (401, H,   S,   H,   H,   H,   H,   H),
    ("ServiceRequest", "search-type", "_id"):  (401, H,   S,   H,   H,   H,   H,   H),
    ("ServiceRequest", "search-type", "patient"): (401, H, S,  H,   H,   H,   H,   H),
    ("ServiceRequest", "search-type", "status"): (401, H,  S,   H,   H,   H,   H,   H),
    # Booking for the child: the newcomer may (and then sees that booking); for anyone
    # else the child is not theirs to act for, whether the id exists or not (403).
    ("Appointment", "create"):                 (401, 403, 201, 201, 403, 403, 403, 403),
    # Cancelling the mother's bookings (PUT and PATCH to status cancelled).
    ("Appointment", "update"):                 (401, 404, 200, 404, 404, 404, 404, 404),
    ("Appointment", "patch"):                  (401, 404, 200, 404, 404, 404, 404, 404),
    # The mother's home-visit request for the child: hers alone, as her bookings; a new
    # one for the child may be made by whoever may act for the child (the old one is
    # cancelled, so «one open request» does not stand in the way).
    ("Task", "read"):                          (401, 404, 200, 404, 404, 404, 404, 404),
    ("Task", "search-type"):                   (401, H,   S,   H,   H,   H,   H,   H),
    ("Task", "search-type", "_id"):            (401, H,   S,   H,   H,   H,   H,   H),
    ("Task", "search-type", "patient"):        (401, H,   S,   H,   H,   H,   H,   H),
    ("Task", "search-type", "status"):         (401, H,   S,   H,   H,   H,   H,   H),
    ("Task", "create"):                        (401, 403, 201, 201, 403, 403, 403, 403),
}  # fmt: skip


def test_the_matrix_lists_every_interaction_and_search_parameter_the_server_declares():
    declared: set[tuple[str, ...]] = set()
    for kind, patient_facing, interactions, params in TYPES:
        if not patient_facing:
            continue
        declared |= {(kind, interaction) for interaction in interactions}
        declared |= {(kind, "search-type", name) for name in params}
    assert declared == set(ROWS) == set(CALLS), "add the interaction to CALLS and ROWS"


def _outcome(response, expected: Expected, family_id: int) -> str | None:
    if expected in (SEES, HIDDEN):
        if response.status_code != 200:
            return f"{response.status_code}, expected 200 ({expected})"
        found = {e["resource"]["id"] for e in response.body.get("entry", [])}
        sees = str(family_id) in found
        if sees != (expected == SEES):
            found_or_not = "found" if sees else "did not find"
            return f"{found_or_not} the family's resource, expected {expected}"
        return None
    if response.status_code != expected:
        return f"{response.status_code}, expected {expected}: {response.content[:200]!r}"
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/fhir+json")
        assert json.loads(response.content)["resourceType"] == "OperationOutcome"
    return None


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_fhir_interaction_gives_each_persona_the_expected_answer(
    persona,
    request,
    fhir,
    token_for,
    guardian,
    child,
    unverified_guardian,
    open_slot,
):
    mothers = AppointmentFactory(patient=child, booked_by=guardian)
    second = AppointmentFactory(patient=child, booked_by=guardian)
    world = World(
        child=child.pk,
        guardianship=child.guardians.get(guardian=guardian.patient).pk,
        appointment=mothers.pk,
        other_appointment=second.pk,
        slot=lambda: open_slot().pk,
        referral=ReferralFactory(patient=child).pk,
        visit=_cancelled_visit(guardian, child),
    )
    users = {"guardian": guardian, "unverified": unverified_guardian}
    if persona in users:
        user = users[persona]
    else:
        user = None if persona == "anonymous" else request.getfixturevalue(persona)
    api = fhir(token_for(user) if user else None)
    column = PERSONAS.index(persona)

    mismatches = []
    # Reads and searches first, then the writes, so a refused cancel is checked on a
    # booking that still stands.
    for key, expected in sorted(ROWS.items(), key=lambda row: row[0][1] in WRITES):
        problem = _outcome(CALLS[key](api, world), expected[column], TARGET[key[0]](world))
        if problem:
            mismatches.append(f"{' '.join(key)} as {persona}: {problem}")
    assert not mismatches, "\n".join(mismatches)

    # A refusal wrote nothing: the mother's bookings stand unless she cancelled them.
    statuses = set(
        Appointment.objects.filter(pk__in=[mothers.pk, second.pk]).values_list("status", flat=True)
    )
    assert statuses == ({"cancelled_patient"} if persona == "guardian" else {"booked"})
    made = Appointment.objects.filter(patient=child).exclude(pk__in=[mothers.pk, second.pk])
    assert made.count() == (1 if persona in ("guardian", "unverified") else 0)


WRITES = {"create", "update", "patch"}


def _cancelled_visit(guardian, child) -> int:
    visit = visit_create(actor=guardian, patient=child, data=valid_data(), ip=None)
    visit_cancel_by_applicant(actor=guardian, visit_id=visit.pk, ip=None)
    return visit.pk
