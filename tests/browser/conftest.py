"""Browser tests: Playwright driving Debian's Chromium, checked with axe-core.

Chromium is never downloaded: we launch /usr/bin/chromium (or $CHROMIUM_PATH).
Without it the tests skip, unless REQUIRE_BROWSER=1, which turns the skip into a
failure so CI cannot pass without having run them.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts"))

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses
# to run next to one unless told that this is a test process.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message + " and REQUIRE_BROWSER=1", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            locale="ru-RU",
            timezone_id="Asia/Irkutsk",
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser, request):
    """A fresh tab with no cookies; a screenshot is saved if the test fails."""
    browser.clear_cookies()
    tab = browser.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    tab.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def save_screenshot():
    """Screenshots for the README: written only when SAVE_SCREENSHOTS names a folder."""
    folder = os.environ.get("SAVE_SCREENSHOTS")

    def save(tab, name):
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(Path(folder) / f"{name}.png"))

    return save


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture
def assert_accessible(axe):
    """Run axe-core on the page; any violation fails with a readable summary."""

    def check(tab):
        # A click that navigates returns once the navigation starts; axe injected into
        # a document being replaced finds no documentElement. Check the loaded page.
        tab.wait_for_load_state("load")
        results = axe.run(tab)
        violations = results.response["violations"]
        summary = [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(node["target"][0] for node in v["nodes"][:3])
            for v in violations
        ]
        assert not violations, f"axe-core violations on {tab.url}:\n" + "\n".join(summary)

    return check


@pytest.fixture
def login_as(browser, live_server):
    """Put a logged-in session for ``user`` into the browser, skipping the ESIA round trip.

    Only for tests whose subject is not the login itself; the ESIA flow has its own
    end-to-end tests against the emulator.
    """
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    def login(user):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        browser.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": session.session_key,
                    "url": live_server.url,
                }
            ]
        )

    return login


@pytest.fixture
def act_for(browser, live_server):
    """Switch the logged-in browser session to a child, as the surname menu does."""
    from django.contrib.sessions.backends.db import SessionStore

    from portal.patients.selectors import ACTING_SESSION_KEY

    def switch(patient):
        cookie = next(c for c in browser.cookies(live_server.url) if c["name"] == "sessionid")
        session = SessionStore(session_key=cookie["value"])
        session[ACTING_SESSION_KEY] = patient.pk
        session.save()

    return switch


# The version for the visually impaired as a cookie (portal.core.accessibility), so a test
# can open any page in it; test_accessibility_version.py goes through the panel itself.
A11Y_VERSIONS = {
    "normal": None,
    "white-on-black-200": "font=larger&scheme=white-on-black&spacing=wide&images=on",
    "blue-150-no-images": "font=large&scheme=blue-on-light-blue&spacing=normal&images=off",
}


@pytest.fixture
def use_version(browser, live_server):
    def use(version: str) -> None:
        value = A11Y_VERSIONS[version]
        if value:
            browser.add_cookies([{"name": "portal_a11y", "value": value, "url": live_server.url}])

    return use
