"""`{% translate %}`, `date` and `time` that remember their answers render exactly what
Django's own render, and follow the language, the time zone and the format."""

import datetime
import zoneinfo
from unittest.mock import patch

from django.template import Context, Engine
from django.template.base import VariableNode
from django.test import override_settings
from django.urls import set_script_prefix
from django.utils import timezone, translation

from portal.core.templatetags.remembered_i18n import RememberedTranslateNode

IRKUTSK = zoneinfo.ZoneInfo("Asia/Irkutsk")
MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")


def _render(source, context=None, autoescape=True):
    # The portal's engine (settings.TEMPLATES), as its pages are rendered.
    template = Engine.get_default().from_string(source)
    return template.render(Context(context or {}, autoescape=autoescape))


def test_the_portals_templates_use_the_remembering_tags():
    engine = Engine.get_default()
    template = engine.from_string('{% load i18n %}{% translate "Мои записи" %}')
    assert isinstance(template.nodelist[-1], RememberedTranslateNode)
    dated = engine.from_string('{{ d|date:"j E" }}').nodelist[0]
    assert isinstance(dated, VariableNode)
    assert dated.filter_expression.filters[0][0].__module__.endswith("remembered_formats")


def test_translate_follows_the_active_language_on_every_render():
    source = '{% load i18n %}{% translate "Мои записи" %}|{% translate "Талон" as t %}{{ t }}'
    with translation.override("ru"):
        russian = _render(source)
    with translation.override("en"):
        english = _render(source)
    with translation.override("ru"):
        assert _render(source) == russian
    assert russian == "Мои записи|Талон"
    # No English catalog: the message as written, and no Russian text kept from before.
    assert english == "Мои записи|Талон"


def test_translate_renders_what_djangos_own_tag_renders():
    stock = Engine(libraries={"i18n": "django.templatetags.i18n"})
    sources = [
        '{% load i18n %}{% translate "5 % <b>" %}',
        '{% load i18n %}{% translate "Талон" noop %}',
        '{% load i18n %}{% translate "Выйти" as label %}[{{ label }}]',
        "{% load i18n %}{% translate word %}",
    ]
    for source in sources:
        for autoescape in (True, False):
            context = {"word": "<b>"}
            expected = stock.from_string(source).render(Context(context, autoescape=autoescape))
            assert _render(source, context, autoescape) == expected
            assert _render(source, context, autoescape) == expected  # kept, the same


def test_translate_of_a_variable_or_with_filters_is_rendered_every_time():
    source = "{% load i18n %}{% translate word %}/{% translate word|upper %}"
    assert _render(source, {"word": "один"}) == "один/ОДИН"
    assert _render(source, {"word": "два"}) == "два/ДВА"


def test_date_and_time_follow_the_value_the_format_and_the_language():
    source = '{{ d|date:"j E Y" }}, {{ d|date:"l"|lower }}, {{ d|time:"H:i" }}'
    first = datetime.datetime(2026, 12, 7, 1, 30, tzinfo=datetime.UTC)
    with timezone.override(IRKUTSK), translation.override("ru"):
        assert _render(source, {"d": first}) == "7 декабря 2026, понедельник, 09:30"
        later = first + datetime.timedelta(days=31, minutes=5)
        assert _render(source, {"d": later}) == "7 января 2027, четверг, 09:35"
        assert _render(source, {"d": first}) == "7 декабря 2026, понедельник, 09:30"
    # The same instant in another zone: another wall time, not the one kept for Irkutsk.
    with timezone.override(MOSCOW), translation.override("ru"):
        assert _render(source, {"d": first}) == "7 декабря 2026, понедельник, 04:30"
    with timezone.override(IRKUTSK), translation.override("en"):
        assert _render(source, {"d": first}) == "7 December 2026, monday, 09:30"


def test_a_plain_date_and_empty_values_render_as_djangos():
    assert _render('{{ d|date:"d.m.Y" }}', {"d": datetime.date(1990, 3, 4)}) == "04.03.1990"
    assert _render('{{ d|date:"d.m.Y" }}|{{ d|time:"H:i" }}', {"d": None}) == "|"
    assert _render('{{ d|date:"d.m.Y" }}', {"d": "not a date"}) == ""


def test_a_changed_format_setting_is_followed():
    day = datetime.date(2026, 12, 7)
    with translation.override(None):
        with override_settings(DATE_FORMAT="Y-m-d", USE_I18N=False):
            assert _render("{{ d|date }}", {"d": day}) == "2026-12-07"
        with override_settings(DATE_FORMAT="d/m/Y", USE_I18N=False):
            assert _render("{{ d|date }}", {"d": day}) == "07/12/2026"


def test_extends_renders_what_djangos_own_tag_renders():
    templates = {
        "root.html": "<{% block a %}root a{% endblock %}|{% block b %}root b{% endblock %}>",
        "middle.html": '{% extends "root.html" %}{% block a %}middle a {{ block.super }}'
        "{% endblock %}",
        "leaf.html": '{% extends "middle.html" %}{% block b %}leaf b {{ block.super }}'
        "{% endblock %}{% block a %}leaf a {{ block.super }}{% endblock %}",
        "other_leaf.html": '{% extends "root.html" %}{% block b %}other {{ n }}{% endblock %}',
    }
    loaders = [("django.template.loaders.locmem.Loader", templates)]
    ours = Engine(loaders=loaders, builtins=["portal.core.templatetags.remembered_extends"])
    stock = Engine(loaders=loaders)
    for name in ("middle.html", "leaf.html", "other_leaf.html", "leaf.html"):
        for n in (1, 2):
            context = {"n": n}
            expected = stock.get_template(name).render(Context(context))
            assert ours.get_template(name).render(Context(context)) == expected
    assert ours.get_template("leaf.html").render(Context()) == (
        "<leaf a middle a root a|leaf b root b>"
    )


def test_a_language_block_inside_a_page_gets_its_own_language():
    # The page's catalog is read once per render (core/templatetags/render_constants.py);
    # {% language %} reads it again for its block and gives the page's back after it.
    # One compiled template, as the cached loader serves a page's on every request.
    template = Engine.get_default().from_string(
        '{% load i18n %}{% translate "Monday" %}|{% language block %}{% translate "Monday" %}'
        '{% endlanguage %}|{% translate "Monday" %}'
    )
    for page, block, expected in [
        ("ru", "en", "Понедельник|Monday|Понедельник"),
        ("ru", "ru", "Понедельник|Понедельник|Понедельник"),
        ("en", "ru", "Monday|Понедельник|Monday"),
        ("ru", "en", "Понедельник|Monday|Понедельник"),
    ]:
        with translation.override(page):
            assert template.render(Context({"block": block})) == expected


def test_urls_follow_the_script_prefix_of_each_render():
    # A portal served under /portal/ (SCRIPT_NAME) links there; the next request, served
    # at the root, links at the root: nothing read for one render outlives it.
    source = "{% url 'scheduling:appointment_list' %} {% url 'scheduling:booking_start' %}"
    try:
        set_script_prefix("/portal/")
        under = _render(source)
    finally:
        set_script_prefix("/")
    assert under == "/portal/appointments/ /portal/booking/"
    assert _render(source) == "/appointments/ /booking/"


def test_an_included_template_shares_the_page_s_reads():
    # `{% include … only %}` copies the page's context: the read of the page is its too.
    engine = Engine.get_default()
    page = engine.from_string("{% url 'scheduling:booking_start' %}|{% include inner only %}")
    inner = engine.from_string("{% url 'scheduling:appointment_list' %}")
    reads = []

    def prefix() -> str:
        reads.append(1)
        return "/"

    with patch("portal.core.templatetags.reversed_urls.get_script_prefix", side_effect=prefix):
        assert page.render(Context({"inner": inner})) == "/booking/|/appointments/"
    assert reads == [1]


def test_urls_of_numbers_are_djangos_for_every_number():
    """Addresses of whole numbers are written into the address's shape (one reversal per
    route): the same text Django's reverse gives, for numbers of any length."""
    from django.urls import reverse

    routes = [
        "scheduling:appointment_ticket",
        "scheduling:appointment_cancel",
        "scheduling:booking_confirm",
        "journal:page",
    ]
    for name in routes:
        for number in (0, 5, 42, 7_000_001, 123_456_789_012_345):
            assert _render("{% url name n %}", {"name": name, "n": number}) == reverse(
                name, args=[number]
            )


@override_settings(ROOT_URLCONF="tests.core.fixed_length_urls")
def test_a_route_that_does_not_take_every_number_is_reversed_by_django_each_time():
    import pytest
    from django.urls import NoReverseMatch

    assert _render("{% url 'three' 123 %}") == "/three/123/"
    with pytest.raises(NoReverseMatch):
        _render("{% url 'three' 7 %}")
    assert _render("{% url 'padded' 42 %}") == "/padded/000042/"
    assert _render("{% url 'padded' 123456 %}") == "/padded/123456/"
    assert _render("{% url 'two' 3 4 %}|{% url 'two' 40 5 %}") == "/two/3/and/4/|/two/40/and/5/"


def test_a_route_of_numbers_is_reversed_once_whatever_the_numbers():
    from django.urls import reverse

    from portal.core.templatetags import reversed_urls

    reversed_urls._cut.cache_clear()
    reversed_urls._reversed.cache_clear()
    with patch.object(reversed_urls, "reverse", wraps=reverse) as django_reverse:
        pages = [
            _render("{% url 'scheduling:appointment_reschedule' n %}", {"n": n})
            for n in (1, 2, 3, 4)
        ]
    assert pages == [f"/appointments/{n}/reschedule/" for n in (1, 2, 3, 4)]
    assert django_reverse.call_count == 2  # the two stand-ins, once
