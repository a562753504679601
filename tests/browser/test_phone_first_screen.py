"""Issue 27, point 8: on a phone the page's own heading is on the first screen.

A parent acting for a child used to scroll past the version's settings panel, a header
of two rows of links and the «you act for» banner before the step's heading appeared:
its top was at 458 px in the normal version, 1,097 px at 150 % and 2,525 px at 200 %
with wide spacing, on a 375 × 812 screen.
"""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 375, "height": 812}


def _heading(page) -> dict[str, float]:
    return page.evaluate(
        "(() => { const h = document.querySelector('main h1');"
        " const r = h.getBoundingClientRect();"
        " return {top: r.top, bottom: r.bottom,"
        " line: parseFloat(getComputedStyle(h).lineHeight)}; })()"
    )


# What fits: the whole heading in the top part of the screen; at 200 % with wide spacing
# (64 px per line of body text, 84 px per line of the heading) at least its first line.
def _visible_enough(version: str, box: dict[str, float]) -> bool:
    if version == "normal":
        return box["bottom"] <= PHONE["height"] / 2
    if version == "blue-150-no-images":
        return box["bottom"] <= PHONE["height"] * 0.6
    return box["top"] + box["line"] <= PHONE["height"]


@pytest.mark.parametrize("version", ["normal", "white-on-black-200", "blue-150-no-images"])
@pytest.mark.parametrize("path", ["/booking/", "/cabinet/", "/appointments/"])
def test_a_childs_page_shows_its_heading_on_the_first_phone_screen(
    live_server, page, login_as, act_for, use_version, guardian, child, version, path
):
    page.set_viewport_size(PHONE)
    use_version(version)
    login_as(guardian)
    act_for(child)
    page.goto(live_server.url + path)
    box = _heading(page)
    assert _visible_enough(version, box), (
        f"{path} in {version}: the heading runs {box['top']:.0f}–{box['bottom']:.0f} px "
        f"down a {PHONE['height']} px screen"
    )


def test_the_folded_panel_opens_and_still_changes_the_version(live_server, page, use_version):
    page.set_viewport_size(PHONE)
    use_version("white-on-black-200")
    page.goto(live_server.url + "/booking/")
    bigger = page.get_by_role("button", name="обычный шрифт")
    assert not bigger.is_visible()
    page.get_by_text("Аа").click()
    bigger.click()
    page.wait_for_load_state("load")
    assert "a11y-font-normal" in page.evaluate("document.documentElement.className")


def test_a_wide_screen_shows_the_panel_unfolded(live_server, page, use_version):
    page.set_viewport_size({"width": 1280, "height": 900})
    use_version("white-on-black-200")
    page.goto(live_server.url + "/booking/")
    expect(page.get_by_role("button", name="обычный шрифт")).to_be_visible()
    assert not page.get_by_text("Аа").is_visible()
