"""Issue 16, item 19: the refusal page links to Gosuslugi's instructions for confirming."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import RequestFactory

pytestmark = pytest.mark.django_db

CONFIRM_HELP = "https://www.gosuslugi.ru/help/faq/login/2"


@pytest.mark.parametrize("level", ["simplified", "standard"])
def test_the_not_confirmed_page_links_to_the_gosuslugi_instructions(level):
    request = RequestFactory().get("/login/esia/refused/")
    request.user = AnonymousUser()
    page = render_to_string("identity/refused_not_confirmed.html", {"level": level}, request)
    assert page.count(f'href="{CONFIRM_HELP}"') == 2
    assert "Как подтвердить учётную запись на Госуслугах" in page
    # Links only: nothing on the page is loaded from Gosuslugi.
    assert 'src="https://' not in page
