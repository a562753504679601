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


def test_a_part_kept_inside_another_carries_the_responses_token():
    # The account menu keeps its words inside the user's kept menu: on the user's first
    # page the inner part's token mark must reach the outer part's replacement.
    kept_forget()
    nested = ENGINE.from_string(
        '{% load kept %}{% kept "outer" name %}{{ name }}<form>{% csrf_token %}</form>'
        '{% kept "inner" %}<form>{% csrf_token %}</form>{% endkept %}{% endkept %}'
    )
    for name, token in [("Иванова", "token-1"), ("Петрова", "token-2"), ("Иванова", "t-3")]:
        page = nested.render(Context({"name": name, "csrf_token": token}))
        assert page.count(f'value="{token}"') == 2 and name in page


@pytest.mark.django_db
def test_each_users_menu_shows_their_names_with_the_shared_links(client, guardian, patient):
    # The first user's menu keeps the words shared by everyone; the second's shows her
    # own names and no one else's.
    from tests.factories import ChildFactory, GuardianshipFactory

    kid = ChildFactory(last_name="Сидорова", first_name="Вера", middle_name="")
    GuardianshipFactory(guardian=guardian.patient, child=kid)
    kept_forget()
    url = reverse("scheduling:booking_start")
    pages = {}
    for user in (guardian, patient):
        client.force_login(user)
        pages[user.pk] = client.get(url).content.decode()
    assert "Сидорова В." in pages[guardian.pk] and "Сидорова В." not in pages[patient.pk]
    for user in (guardian, patient):
        page = pages[user.pk]
        assert user.patient.last_name in page and "Личные данные" in page and "Выйти" in page
        assert page.count('name="csrfmiddlewaretoken"') >= 2
