"""`{% kept %}`: a part of the page frame rendered once, with each response's own CSRF token."""

import pytest
from django.template import Context, Engine, TemplateSyntaxError
from django.urls import reverse

from portal.core.templatetags.kept import kept_forget

ENGINE = Engine(libraries={"kept": "portal.core.templatetags.kept"})
PART = ENGINE.from_string(
    '{% load kept %}{% kept "part" name %}<form>{% csrf_token %}{{ name }} '
    "{{ other }}</form>{% endkept %}"
)


def _render(name, other, token="token-1"):
    return PART.render(Context({"name": name, "other": other, "csrf_token": token}))


def test_the_part_is_kept_for_its_keys_and_carries_each_responses_token():
    kept_forget()
    first = _render("Иванова", "shown once", token="token-1")
    assert 'value="token-1"' in first and "shown once" in first
    again = _render("Иванова", "not a key, not rendered again", token="token-2")
    assert 'value="token-2"' in again and "shown once" in again
    renamed = _render("Петрова", "rendered for the new key", token="token-3")
    assert "Петрова" in renamed and 'value="token-3"' in renamed


def test_a_model_instance_is_no_key(patient):
    kept_forget()
    with pytest.raises(TemplateSyntaxError):
        _render(patient, "")


@pytest.mark.django_db
def test_every_page_gets_a_fresh_csrf_token_in_the_menu(client, patient):
    client.force_login(patient)
    url = reverse("scheduling:booking_start")
    tokens = set()
    for _ in range(2):
        page = client.get(url).content.decode()
        tokens.add(page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0])
        assert patient.patient.short_name in page
    assert len(tokens) == 2  # masked anew for each response, as Django does


@pytest.mark.django_db
def test_the_menu_follows_a_new_child_and_a_new_name(client, guardian):
    from tests.factories import ChildFactory, GuardianshipFactory

    client.force_login(guardian)
    url = reverse("scheduling:booking_start")
    assert "Сидорова" not in client.get(url).content.decode()
    kid = ChildFactory(last_name="Сидорова", first_name="Вера", middle_name="")
    GuardianshipFactory(guardian=guardian.patient, child=kid)
    assert "Сидорова В." in client.get(url).content.decode()
    guardian.patient.last_name = "Смирнова"
    guardian.patient.save()
    assert "Смирнова" in client.get(url).content.decode()


def test_without_a_request_the_part_is_rendered_as_is():
    kept_forget()
    page = ENGINE.from_string('{% load kept %}{% kept "x" %}{{ a }}{% endkept %}').render(
        Context({"a": "plain"})
    )
    assert page == "plain"
