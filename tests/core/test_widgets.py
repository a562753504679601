"""`PlainSelect` writes exactly what Django's Select template writes."""

import pytest
from django import forms

from portal.core.widgets import PlainSelect

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
