"""`PlainSelect` and `PlainHiddenInput` write exactly what Django's templates write;
`plain_choices` keeps what Django's normalisation would keep and leaves the rest to it."""

import uuid

import pytest
from django import forms
from django.utils.choices import normalize_choices
from django.utils.translation import gettext_lazy

from portal.core.widgets import PlainChoiceField, PlainHiddenInput, PlainSelect, plain_choices
from portal.scheduling.forms import BookingConfirmForm

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


@pytest.mark.parametrize(
    "value", [None, "", 0, uuid.UUID(int=7), 'a "quoted" <b>&amp;', ["x", "y"]]
)
@pytest.mark.parametrize(
    "attrs",
    [
        None,
        {"id": "id_key"},
        {"id": "id_key", "data-on": True, "data-off": False, "class": 'a"b<c'},
        {"type": "text"},
    ],
)
def test_a_hidden_input_is_djangos_own(value, attrs):
    ours = PlainHiddenInput(attrs=dict(attrs or {})).render("key", value)
    djangos = forms.HiddenInput(attrs=dict(attrs or {})).render("key", value)
    assert ours == djangos


@pytest.mark.parametrize("data", [None, {"key": "not a uuid"}, {"key": str(uuid.UUID(int=9))}])
def test_the_confirm_forms_key_is_drawn_as_django_draws_it(data):
    """Fresh, refused as malformed, or sent back: the bound field's markup (its id, value
    and aria attributes) is what Django's hidden input gives."""
    form = BookingConfirmForm(data) if data is not None else BookingConfirmForm.fresh()
    if data is not None:
        form.is_valid()
    ours = str(form["key"])
    form.fields["key"].widget = forms.HiddenInput()
    assert ours == str(form["key"])
    assert ours.startswith('<input type="hidden" name="key"')


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
