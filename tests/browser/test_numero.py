"""Issue 27, point 8: on a phone «№» never ends a line while its number starts the next.

Chromium lays the clinic names out at 375 px; the card is then narrowed step by step, so
that every place a line could break in the name is tried, and at each width the «№» and
the digit after it must share a line (their rectangles have the same top). A copy of the
name with an ordinary space, measured the same way, does split: the check can fail.
"""

import pytest
from playwright.sync_api import expect

from tests.factories import ClinicFactory, DistrictFactory

pytestmark = pytest.mark.django_db(transaction=True)

NAME = "Детская городская поликлиника № 17"

# For each width of the element, whether «№» (and the character after the space) start on
# different lines: the tops of one-character ranges differ by at least half a line.
_SPLITS = """([selector, widths]) => {
  const element = document.querySelector(selector);
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  let text = walker.nextNode();
  while (!text.data.includes("№")) text = walker.nextNode();
  const at = text.data.indexOf("№");
  const top = (offset) => {
    const range = document.createRange();
    range.setStart(text, offset);
    range.setEnd(text, offset + 1);
    return range.getClientRects()[0].top;
  };
  const line = parseFloat(getComputedStyle(element).lineHeight) || 16;
  const split = [];
  for (const width of widths) {
    element.style.width = width + "px";
    if (Math.abs(top(at + 2) - top(at)) > line / 2) split.push(width);
  }
  element.style.width = "";
  return split;
}"""

_PLAIN_COPY = """(selector) => {
  const original = document.querySelector(selector);
  const copy = document.createElement(original.tagName);
  copy.className = original.className;
  copy.id = "plain-copy";
  copy.textContent = original.textContent.replace("№\\u00a0", "№ ");
  original.after(copy);
}"""


def test_a_clinic_name_keeps_its_number_on_the_line_of_its_sign(live_server, page):
    district = DistrictFactory(name="г. Иркутск")
    ClinicFactory(district=district, short_name=NAME, kind="children")
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/districts/{district.pk}/")

    link = page.get_by_role("link", name=NAME)  # Playwright reads U+00A0 as a space
    expect(link).to_be_visible()
    link.evaluate("a => a.closest('h2').id = 'the-clinic'")  # a block: it can be narrowed
    assert "№\u00a017" in link.inner_text()

    # From 80 px: narrower than «№ 17» itself, the word is broken anywhere (overflow-wrap).
    widths = list(range(80, 376, 2))
    assert page.evaluate(_SPLITS, ["#the-clinic", widths]) == []

    page.evaluate(_PLAIN_COPY, "#the-clinic")
    assert page.evaluate(_SPLITS, ["#plain-copy", widths]) != []
