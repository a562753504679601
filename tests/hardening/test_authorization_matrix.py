"""Every URL of the site × every persona → the status each must get.

The test walks Django's URL resolver, so a new URL that nobody put in MATRIX fails it:
whoever adds a page must decide who may open it. Admin pages are covered by one rule
(staff only) so that registering a model in the admin needs no edit here.

Mutating POSTs run after all GETs and the guardian runs last, so the one persona
allowed to cancel or remove does so only after everyone else has been refused.
"""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

PERSONAS = ("anonymous", "patient", "stranger", "clerk", "unverified", "guardian")

# name -> method -> expected status per persona, in the order of COLUMNS.
COLUMNS = ("anonymous", "patient", "guardian", "stranger", "clerk")
LOGIN = 302  # redirect to the cabinet's login page (or the admin's, for admin pages)
# Refused one way or another (403, or 302/404 where Django's admin looks the object up
# first); never 200.
DENIED = frozenset({302, 403, 404})
Status = int | frozenset[int] | None
MATRIX: dict[str, dict[str, tuple[Status, Status, Status, Status, Status]]] = {
    #                                          anon   patient guardian stranger clerk
    "core:home":                      {"GET": (200,  200,    200,     200,     200)},
    "core:healthz":                   {"GET": (200,  200,    200,     200,     200)},
    "core:accessibility":             {"GET": (200,  200,    200,     200,     200),
                                       "POST": (302, 302,    302,     302,     302)},
    "directory:district_list":        {"GET": (200,  200,    200,     200,     200)},
    "directory:district_detail":      {"GET": (200,  200,    200,     200,     200)},
    "directory:clinic_detail":        {"GET": (200,  200,    200,     200,     200)},
    "cabinet:search":                 {"GET": (200,  200,    200,     200,     200)},
    "identity:cabinet":               {"GET": (200,  200,    200,     200,     200)},
    "identity:esia_login":            {"GET": (302,  302,    302,     302,     302)},
    "identity:esia_callback":         {"GET": (400,  400,    400,     400,     400)},
    "identity:login_refused":         {"GET": (403,  403,    403,     403,     403)},
    "identity:logout":                {"GET": (405,  405,    405,     405,     405),
                                       "POST": (302, 302,    302,     302,     302)},
    "patients:personal":              {"GET": (LOGIN, 200,   200,     200,     LOGIN)},
    "patients:relative_add":          {"GET": (LOGIN, 200,   200,     200,     LOGIN),
                                       "POST": (LOGIN, 400,  400,     400,     LOGIN)},
    "patients:relative_add_esia":     {"GET": (405, 405, 405,    405,     405),
                                       "POST": (LOGIN, 302,  302,     302,     LOGIN)},
    "patients:relative_remove":       {"GET": (LOGIN, 404,  200,     404,     LOGIN),
                                       "POST": (LOGIN, 404,  302,     404,     LOGIN)},
    # On the guardian's own (verified) guardianship: nobody approves or revokes it here.
    "patients:guardianship_approve":  {"GET": (405, 405,  405,     405,     405),
                                       "POST": (LOGIN, 404,  404,     404,     LOGIN)},
    "patients:guardianship_revoke":   {"GET": (405, 405,  405,     405,     405),
                                       "POST": (LOGIN, 404,  404,     404,     LOGIN)},
    "patients:acting_switch":         {"GET": (405, 405,    405,     405,     405),
                                       "POST": (LOGIN, 302,  302,     302,     LOGIN)},
    "journal:page":               {"GET": (LOGIN, 404,   200,     404,     LOGIN)},
    "scheduling:booking_start":       {"GET": (LOGIN, 200,   200,     200,     LOGIN)},
    "scheduling:booking_nearest":     {"GET": (LOGIN, 200,   200,     200,     LOGIN)},
    "scheduling:booking_district":    {"GET": (LOGIN, 200,   200,     200,     LOGIN)},
    "scheduling:booking_clinic":      {"GET": (LOGIN, 200,   200,     200,     LOGIN)},
    "scheduling:booking_doctors":     {"GET": (LOGIN, 200,   200,     200,     LOGIN)},
    "scheduling:booking_days":        {"GET": (LOGIN, 200,   200,     200,     LOGIN)},
    "scheduling:booking_times":       {"GET": (LOGIN, 200,   200,     200,     LOGIN)},
    "scheduling:booking_confirm":     {"GET": (LOGIN, 200,   200,     200,     LOGIN),
                                       "POST": (LOGIN, 400,  400,     400,     LOGIN)},
    "scheduling:appointment_list":    {"GET": (LOGIN, 200,   200,     200,     LOGIN)},
    "scheduling:appointment_ticket":  {"GET": (LOGIN, 404,   200,     404,     LOGIN)},
    "scheduling:appointment_cancel":  {"GET": (LOGIN, 404,   200,     404,     LOGIN),
                                       "POST": (LOGIN, 404,  302,     404,     LOGIN)},
    "scheduling:appointment_reschedule": {"GET": (LOGIN, 404, 200,   404,     LOGIN)},
    "scheduling:appointment_move_days": {"GET": (LOGIN, 404, 200,    404,     LOGIN)},
    "scheduling:appointment_move_times": {"GET": (LOGIN, 404, 200,   404,     LOGIN)},
    "scheduling:appointment_reschedule_confirm": {"GET": (LOGIN, 404, 200, 404, LOGIN),
                                       "POST": (LOGIN, 404,  400,     404,     LOGIN)},
    "scheduling:appointment_ics":     {"GET": (LOGIN, 404,   200,     404,     LOGIN)},
    # The workspace (tests/workspace/test_authorization_matrix.py has its staff personas):
    # the clerk here logged in with a password only, so the second factor is still asked.
    "workspace:login":                {"GET": (200,  200,    200,     200,     200),
                                       "POST": (400, 400,    400,     400,     400)},
    "workspace:login_code":           {"GET": (302,  302,    302,     302,     302),
                                       "POST": (302, 302,    302,     302,     302)},
    "workspace:logout":               {"GET": (405,  405,    405,     405,     405),
                                       "POST": (302, 302,    302,     302,     302)},
    "workspace:home":                 {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "workspace:day_list":             {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "workspace:absence_list":         {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "workspace:dashboard":            {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "workspace:dashboard_csv":        {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "workspace:directory_list":       {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "workspace:directory_new":        {"GET": (LOGIN, 403,   403,     403,     LOGIN),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    "workspace:directory_edit":       {"GET": (LOGIN, 403,   403,     403,     LOGIN),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    "workspace:phone_search":         {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "workspace:phone_person":         {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "workspace:phone_book":           {"GET": (405,  405,    405,     405,     405),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    "workspace:absence_new":          {"GET": (LOGIN, 403,   403,     403,     LOGIN),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    "workspace:appointment_attendance": {"GET": (405, 405,   405,     405,     405),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    "workspace:schedule_index":       {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "workspace:schedule_doctor":      {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "workspace:schedule_rule_new":    {"GET": (LOGIN, 403,   403,     403,     LOGIN),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    "workspace:schedule_rule_edit":   {"GET": (LOGIN, 403,   403,     403,     LOGIN),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    "workspace:guardianship_list":    {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "workspace:guardianship_confirm": {"GET": (405,  405,    405,     405,     405),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    # The patient card and the window (docs/workspace.md).
    "workspace:patient_search":       {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "workspace:patient_card":         {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "workspace:patient_book":         {"GET": (LOGIN, 403,   403,     403,     LOGIN),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    "workspace:appointment_cancel":   {"GET": (LOGIN, 403,   403,     403,     LOGIN),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    "workspace:appointment_move":     {"GET": (LOGIN, 403,   403,     403,     LOGIN),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    "workspace:window":               {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "workspace:ticket":               {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "workspace:appointment_detail":   {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "workspace:appointment_arrived":  {"GET": (405,  405,    405,     405,     405),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    # «Запись при открытии дня» (tests/release/test_views.py has the staff personas): the
    # request is the guardian's own; an empty POST is the form with what is missing.
    "release:home":                   {"GET": (LOGIN, 200,   200,     200,     LOGIN)},
    "release:request_new":            {"GET": (LOGIN, 200,   302,     200,     LOGIN),
                                       "POST": (LOGIN, 400,  302,     400,     LOGIN)},
    "release:request_detail":         {"GET": (LOGIN, 404,   200,     404,     LOGIN)},
    "release:request_withdraw":       {"GET": (405,  405,    405,     405,     405),
                                       "POST": (LOGIN, 404,  302,     404,     LOGIN)},
    "release:staff_list":             {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "release:staff_detail":           {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    # «Направления» (docs/referrals.md): the list is the acting patient's own; the world's
    # referral is the child's, so only her guardian opens it. The clinic's pages are
    # staff-only (tests/referrals/test_authorization.py has the staff personas).
    "referrals:list":                 {"GET": (LOGIN, 200,   200,     200,     LOGIN)},
    "referrals:book":                 {"GET": (LOGIN, 404,   200,     404,     LOGIN)},
    "referrals:clinic_list":          {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "referrals:issue":                {"GET": (LOGIN, 403,   403,     403,     LOGIN),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    "referrals:cancel":               {"GET": (405,  405,    405,     405,     405),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    "notifications:list":             {"GET": (LOGIN, 200,   200,     200,     LOGIN)},
    "notifications:preferences":      {"GET": (LOGIN, 200,   200,     200,     LOGIN),
                                       "POST": (LOGIN, 302,  302,     302,     LOGIN)},
    # The waitlist and offers (docs/waitlist.md): the child's entry and offer are the
    # guardian's; anyone else gets 404, never a hint that they exist.
    "waitlist:entry_list":            {"GET": (LOGIN, 200,   200,     200,     LOGIN)},
    "waitlist:entry_join":            {"GET": (LOGIN, 200,   200,     200,     LOGIN),
                                       "POST": (LOGIN, 200,  200,     200,     LOGIN)},
    "waitlist:entry_leave":           {"GET": (405,  405,    405,     405,     405),
                                       "POST": (LOGIN, 404,  302,     404,     LOGIN)},
    "waitlist:offer_list":            {"GET": (LOGIN, 200,   200,     200,     LOGIN)},
    "waitlist:offer_take":            {"GET": (405,  405,    405,     405,     405),
                                       "POST": (LOGIN, 404,  302,     404,     LOGIN)},
    "waitlist:offer_decline":         {"GET": (405,  405,    405,     405,     405),
                                       "POST": (LOGIN, 404,  302,     404,     LOGIN)},
    # Home visits (docs/home-visits.md): the child's request is the guardian's; anyone
    # else gets 404. An empty POST is the form with what is missing. The dispatcher's
    # pages are staff pages (tests/home_visits/test_authorization_matrix.py has the staff
    # personas with both factors).
    "home_visits:list":               {"GET": (LOGIN, 200,   200,     200,     LOGIN)},
    "home_visits:new":                {"GET": (LOGIN, 200,   200,     200,     LOGIN),
                                       "POST": (LOGIN, 400,  400,     400,     LOGIN)},
    "home_visits:detail":             {"GET": (LOGIN, 404,   200,     404,     LOGIN)},
    "home_visits:cancel":             {"GET": (405,  405,    405,     405,     405),
                                       "POST": (LOGIN, 404,  302,     404,     LOGIN)},
    "home_visits_workspace:queue":    {"GET": (LOGIN, 403,   403,     403,     LOGIN)},
    "home_visits_workspace:phone":    {"GET": (LOGIN, 403,   403,     403,     LOGIN),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    "home_visits_workspace:accept":   {"GET": (405,  405,    405,     405,     405),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    "home_visits_workspace:assign":   {"GET": (405,  405,    405,     405,     405),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    "home_visits_workspace:visited":  {"GET": (405,  405,    405,     405,     405),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    "home_visits_workspace:cancel":   {"GET": (405,  405,    405,     405,     405),
                                       "POST": (LOGIN, 403,  403,     403,     LOGIN)},
    # FHIR API (docs/api.md): the directory is public; patient data needs a bearer token,
    # never a session (tests/api/test_authorization_matrix.py is the API's own matrix:
    # every FHIR interaction and search parameter × every persona).
    "fhir:metadata":                  {"GET": (200,  200,    200,     200,     200),
                                       "POST": (405, 405,    405,     405,     405)},
    "fhir:openapi":                   {"GET": (200,  200,    200,     200,     200),
                                       "POST": (405, 405,    405,     405,     405)},
    "fhir:smart":                     {"GET": (200,  200,    200,     200,     200),
                                       "POST": (405, 405,    405,     405,     405)},
    "fhir:type":                      {"GET": (200,  200,    200,     200,     200),
                                       "POST": (405, 405,    405,     405,     405)},
    "fhir:instance":                  {"GET": (200,  200,    200,     200,     200),
                                       "POST": (405, 405,    405,     405,     405)},
    "fhir:not_found":                 {"GET": (404,  404,    404,     404,     404),
                                       "POST": (404, 404,    404,     404,     404)},
    "oauth:authorize":                {"GET": (302,  400,    400,     400,     403)},
    "oauth:token":                    {"GET": (405,  405,    405,     405,     405),
                                       "POST": (400, 400,    400,     400,     400)},
    "oauth:revoke-token":             {"GET": (405,  405,    405,     405,     405)},
    # RFC 7662 for confidential clients only: a session proves nothing here.
    "oauth:introspect":               {"GET": (405,  405,    405,     405,     405),
                                       "POST": (401, 401,    401,     401,     401)},
    "oauth_metadata":                 {"GET": (200,  200,    200,     200,     200),
                                       "POST": (405, 405,    405,     405,     405)},
    "oauth:consents":                 {"GET": (LOGIN, 200,   200,     200,     200),
                                       "POST": (LOGIN, 405,  405,     405,     405)},
    "oauth:consent_withdraw":         {"GET": (LOGIN, 405,  405,     405,     405),
                                       "POST": (LOGIN, 302,  302,     302,     302)},
}  # fmt: skip

# The unverified guardian (a second parent of the guardian's child, not yet confirmed)
# gets what the guardian gets, except where listed here: of the child he sees only what
# he booked himself, and the guardianships in the world are the verified guardian's.
UNVERIFIED: dict[str, dict[str, Status]] = {
    # The child's appointment in the world was booked by the verified guardian.
    "scheduling:appointment_ticket": {"GET": 404},
    "scheduling:appointment_cancel": {"GET": 404, "POST": 404},
    "scheduling:appointment_reschedule": {"GET": 404},
    "scheduling:appointment_move_days": {"GET": 404},
    "scheduling:appointment_move_times": {"GET": 404},
    "scheduling:appointment_reschedule_confirm": {"GET": 404, "POST": 404},
    "scheduling:appointment_ics": {"GET": 404},
    # The guardianship in the world is the verified guardian's, not his.
    "patients:relative_remove": {"GET": 404, "POST": 404},
    # The child's waitlist entry and offer were made by the verified guardian.
    "waitlist:entry_leave": {"POST": 404},
    "waitlist:offer_take": {"POST": 404},
    "waitlist:offer_decline": {"POST": 404},
    # The world's ballot request is the verified guardian's (she is sent to it); he has
    # none, so he gets the form, and an empty POST is the form with what is missing.
    "release:request_new": {"GET": 200, "POST": 400},
    "release:request_detail": {"GET": 404},
    "release:request_withdraw": {"POST": 404},
    # A referral is the clinic's doing, never his: he sees none of the child's.
    "referrals:book": {"GET": 404},
    # The child's home-visit request was made by the verified guardian.
    "home_visits:detail": {"GET": 404},
    "home_visits:cancel": {"POST": 404},
}  # the journal (200) names nobody else to him: tests/patients/test_guardianship.py

# Admin pages by the last part of their name. The admin has no login of its own (its
# login page sends everyone to the workspace's two-step login), and the clerk here has a
# password-only session, so every admin page sends them there too; with both factors the
# admin opens (tests/workspace/test_admin_second_factor.py).
ADMIN_RULES: list[tuple[str, tuple[Status, Status, Status, Status, Status]]] = [
    (r"^admin:login$", (302, 302, 302, 302, 302)),
    (r"^admin:(autocomplete|jsi18n|view_on_site)$", (LOGIN, LOGIN, LOGIN, LOGIN, None)),
    (r"^admin:.*$", (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN)),
]
# POST bodies: just enough to bind the form (an empty POST shows a blank form).
POST_DATA = {"patients:relative_add": {"last_name": "x"}}


def _patterns(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace or ""]))
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace else str(entry.name)
            yield name, prefix + str(entry.pattern)


def _fill(route: str, params: dict) -> str:
    route = route.replace("^", "").replace("$", "")
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(params[m.group(1)]), route)
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(params[m.group(1)]), route)


def _expected(name: str, method: str, persona: str):
    if persona == "unverified":
        if method in UNVERIFIED.get(name, {}):
            return UNVERIFIED[name][method]
        persona = "guardian"
    column = COLUMNS.index(persona)
    row = _row(name, method)
    return None if row is None else row[column]


def _row(name: str, method: str):
    if name in MATRIX:
        return MATRIX[name].get(method)
    if name.startswith("admin:"):
        if method != "GET":
            return None
        return next(row for pattern, row in ADMIN_RULES if re.match(pattern, name))
    raise AssertionError(
        f"{name} is not in the authorization matrix: add it to MATRIX with the status "
        "each persona must get"
    )


@pytest.mark.django_db
def test_every_url_gives_each_persona_the_expected_status(
    world, patient, guardian, unverified_guardian, stranger, clerk, esia_setup
):
    users = {
        "patient": patient,
        "guardian": guardian,
        "unverified": unverified_guardian,
        "stranger": stranger,
        "clerk": clerk,
    }
    urls = [(name, _fill(route, world)) for name, route in _patterns(get_resolver().url_patterns)]
    # Removing the child takes the guardian's access to the child's appointment with it.
    urls.sort(key=lambda item: item[0] == "patients:relative_remove")
    assert len(urls) > 30
    seen_site_names = {name for name, _ in urls if not name.startswith("admin:")}
    assert seen_site_names == set(MATRIX), "MATRIX lists a URL that no longer exists"

    mismatches = []
    for method in ("GET", "POST"):
        for persona in PERSONAS:
            browser = Client()
            if persona in users:
                browser.force_login(users[persona])
            for name, url in urls:
                expected = _expected(name, method, persona)
                if expected is None:
                    continue
                if method == "GET":
                    response = browser.get(url)
                else:
                    response = browser.post(url, POST_DATA.get(name, {}))
                if name in ("identity:logout", "workspace:logout") and persona in users:
                    browser.force_login(users[persona])
                allowed = expected if isinstance(expected, frozenset) else {expected}
                if response.status_code not in allowed:
                    mismatches.append(
                        f"{method} {url} ({name}) as {persona}: "
                        f"{response.status_code}, expected {expected}"
                    )
                elif name.startswith("admin:") and response.status_code == 302:
                    # Nobody leaves the admin's login flow, which ends at the workspace's
                    # two-step login (docs/security.md, «Staff logins»).
                    assert response["Location"].startswith(
                        ("/staff-admin/", "/workspace/login/")
                    ), url
    assert not mismatches, "\n".join(mismatches)
