"""No response to a logged-in user may be stored by a browser or a proxy (docs/security.md).

Walks the same URLs as the authorization matrix, as the guardian (who may open all of
the family's pages) and as the clerk, so a new page is covered without an edit here.
"""

import pytest
from django.test import Client
from django.urls import get_resolver

from tests.hardening.test_authorization_matrix import _fill, _patterns


def _urls(world_ids: dict) -> list[tuple[str, str]]:
    return [
        (name, _fill(route, world_ids))
        for name, route in _patterns(get_resolver().url_patterns)
        if name != "logout" and not name.startswith("admin:")
    ]


def _assert_private(response, label):
    cache_control = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    assert {"no-store", "private"} <= cache_control, (label, response.get("Cache-Control"))
    assert response.get("Pragma") == "no-cache", label


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["guardian", "clerk"])
def test_every_response_to_a_logged_in_user_is_marked_no_store(
    world, guardian, clerk, esia_setup, persona
):
    browser = Client()
    browser.force_login({"guardian": guardian, "clerk": clerk}[persona])
    checked = 0
    for name, url in _urls(world):
        response = browser.get(url)
        _assert_private(response, f"{name} {url} {response.status_code}")
        checked += 1
    assert checked > 20
    # Redirects, refusals and error pages too: a 404 to a logged-in user is personal.
    _assert_private(browser.get("/no-such-page/"), "404")
    _assert_private(browser.post("/cabinet/acting/", {"patient": "x"}), "switch POST")


@pytest.mark.django_db
def test_public_pages_for_visitors_stay_cacheable(client, home_clinic):
    response = client.get("/")
    assert "no-store" not in response.get("Cache-Control", "")
