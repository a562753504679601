"""`PlainSelect` writes exactly what Django's Select template writes; `plain_choices` keeps
what Django's normalisation would keep and leaves the rest to it."""

import pytest
from django import forms
from django.utils.choices import normalize_choices
from django.utils.translation import gettext_lazy

from portal.core.widgets import PlainChoiceField, PlainSelect, plain_choices

CHOICES = [
    ("", "— выберите —"),
    (1, "Терапевт"),
    (2, "Офтальмолог <детский> & «взрослый»"),
    ("attached", "Моя поликлиника прикрепления"),
]
GROUPED = [("Города", [(1, "Иркутск"), (2, "Ангарск")]), ("Районы", [(3, 'Усть-"Кут"')])]


@pytest.mark.parametrize("choices", [CHOICES, GROUPED])
@pytest.mark.parametrize("value", [None, "", 2, "2", "attached", "nonsense"])
@pytest.mark.parametrize(
    "attrs",
    [
        None,
        {"id": "id_place", "required": True},
        {"aria-describedby": "id_place-errors", "aria-invalid": "true", "disabled": False},
    ],
)
def test_the_markup_is_djangos_own(choices, value, attrs):
    ours = PlainSelect(choices=choices).render("place", value, attrs)
    djangos = forms.Select(choices=choices).render("place", value, attrs)
    assert ours == djangos


def test_a_renamed_choice_is_drawn_anew():
    first = PlainSelect(choices=[(1, "Терапевт")]).render("s", 1)
    renamed = PlainSelect(choices=[(1, "Терапевт участковый")]).render("s", 1)
    assert "Терапевт участковый" not in first and "Терапевт участковый" in renamed
    assert PlainSelect(choices=[(1, "Терапевт")]).render("s", 1) == first


# --- plain_choices: what Django's normalisation would keep, kept without it -------------


@pytest.mark.parametrize("choices", [CHOICES, [("attached", "Моя"), ("7", "Ангарск")], []])
def test_plain_pairs_are_kept_as_given_and_equal_djangos_normalisation(choices):
    kept = plain_choices(choices)
    assert kept is choices  # no copy, no walk through every pair
    assert kept == normalize_choices(choices)


@pytest.mark.parametrize(
    "choices",
    [
        GROUPED,  # groups: Django makes lists of the nested pairs
        [(1, gettext_lazy("Терапевт"))],  # a lazy label stays lazy, translated when drawn
        ((1, "Терапевт"),),  # a tuple of pairs: Django answers with a list
        [[1, "Терапевт"]],  # a pair written as a list
    ],
)
def test_anything_else_goes_through_djangos_normalisation(choices):
    assert plain_choices(choices) == normalize_choices(choices)
    assert plain_choices(choices) is not choices


def test_a_callable_is_still_read_anew_each_time():
    names = ["Иркутск"]
    field = PlainChoiceField(choices=lambda: [(str(i), n) for i, n in enumerate(names)])
    assert [label for _, label in field.choices] == ["Иркутск"]
    names.append("Ангарск")  # a district added since is offered at once
    assert [label for _, label in field.choices] == ["Иркутск", "Ангарск"]


def test_a_plain_choice_field_validates_and_draws_as_djangos():
    ours = PlainChoiceField(widget=PlainSelect)
    ours.choices = [("attached", "Моя поликлиника"), ("7", "Ангарск")]
    djangos = forms.ChoiceField(choices=[("attached", "Моя поликлиника"), ("7", "Ангарск")])
    assert ours.clean("7") == djangos.clean("7") == "7"
    for field in (ours, djangos):
        with pytest.raises(forms.ValidationError):
            field.clean("8")  # not offered
    assert ours.widget.render("place", "7") == djangos.widget.render("place", "7")
