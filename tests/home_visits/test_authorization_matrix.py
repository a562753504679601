"""Every home-visit URL × every persona, staff logged in with both factors.

Mirrors tests/workspace/test_authorization_matrix.py: a new URL of the app that nobody
put in MATRIX fails. The request belongs to the guardian's clinic (``home_clinic``): its
clerk and head may dispatch it, the other clinic's clerk gets 404, citizens a 403 page
on the dispatcher's side and only their own family's request on theirs.
"""

import pytest
from django.test import Client
from django.urls import get_resolver

from portal.home_visits.services import visit_create
from tests.hardening.test_authorization_matrix import _fill, _patterns
from tests.home_visits.conftest import valid_data
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
DONE = 302  # done, or refused with the reason on the queue's page
MATRIX = {
    #                                anon   patient guard. strang. clerk  other  head   oper.
    "home_visits:list":           {"GET": (LOGIN, 200,  200,   200,    LOGIN, LOGIN, LOGIN, LOGIN)},
    "home_visits:new":            {"GET": (LOGIN, 200,  200,   200,    LOGIN, LOGIN, LOGIN, LOGIN)},
    "home_visits:detail":         {"GET": (LOGIN, 404,  200,   404,    LOGIN, LOGIN, LOGIN, LOGIN)},
    "home_visits:cancel":         {"POST": (LOGIN, 404, DONE,  404,    LOGIN, LOGIN, LOGIN, LOGIN)},
    "home_visits_workspace:queue":
                                  {"GET": (LOGIN, 403,  403,   403,    200,   200,   200,   200)},
    # An empty POST is the form with what is missing.
    "home_visits_workspace:phone":
                                  {"GET": (LOGIN, 403,  403,   403,    200,   200,   200,   200),
                                   "POST": (LOGIN, 403, 403,   403,    400,   400,   400,   400)},
    "home_visits_workspace:accept":
                                  {"POST": (LOGIN, 403, 403,   403,    DONE,  404,   DONE,  DONE)},
    "home_visits_workspace:assign":
                                  {"POST": (LOGIN, 403, 403,   403,    DONE,  404,   DONE,  DONE)},
    "home_visits_workspace:visited":
                                  {"POST": (LOGIN, 403, 403,   403,    DONE,  404,   DONE,  DONE)},
    "home_visits_workspace:cancel":
                                  {"POST": (LOGIN, 403, 403,   403,    DONE,  404,   DONE,  DONE)},
}  # fmt: skip
# The guardian's cancel runs last (it closes the request the other rows act on).
LAST = "home_visits:cancel"


@pytest.mark.django_db
def test_every_home_visit_url_gives_each_persona_the_expected_status(
    guardian, child, patient, stranger, clerk, other_clerk, head, operator
):
    visit = visit_create(actor=guardian, patient=child, data=valid_data(), ip=None)
    citizens = {"patient": patient, "guardian": guardian, "stranger": stranger}
    staff = {"clerk": clerk, "other_clerk": other_clerk, "head": head, "operator": operator}
    urls = [
        (name, _fill(route, {"visit_id": visit.pk}))
        for name, route in _patterns(get_resolver().url_patterns)
        if name.startswith("home_visits")
    ]
    assert {name for name, _ in urls} == set(MATRIX), "a home-visit URL is missing from MATRIX"

    mismatches = []
    order = sorted(COLUMNS, key=lambda persona: persona == "guardian")
    for persona in order:
        if persona in staff:
            browser = verified_client(staff[persona])
        else:
            browser = Client()
            if persona in citizens:
                browser.force_login(citizens[persona])
        for name, url in sorted(urls, key=lambda item: item[0] == LAST):
            for method, row in MATRIX[name].items():
                expected = row[COLUMNS.index(persona)]
                response = browser.get(url) if method == "GET" else browser.post(url, {})
                if response.status_code != expected:
                    mismatches.append(
                        f"{method} {url} as {persona}: {response.status_code}, expected {expected}"
                    )
    assert not mismatches, "\n".join(mismatches)
