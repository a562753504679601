"""Issue 27: a phone number is shown as people read it and dialled as +7 and its digits."""

import pytest

from portal.core.phones import phone_display, phone_href


@pytest.mark.parametrize(
    ("stored", "shown", "dialled"),
    [
        ("79140000002", "+7 (914) 000-00-02", "tel:+79140000002"),
        ("8 914 000 00 02", "+7 (914) 000-00-02", "tel:+79140000002"),
        ("+7(999)1234567", "+7 (999) 123-45-67", "tel:+79991234567"),
        ("+7 (3952) 24-56-78", "+7 (3952) 24-56-78", "tel:+73952245678"),
        ("3952245678", "+7 (3952) 24-56-78", "tel:+73952245678"),
        ("112", "112", ""),
    ],
)
def test_a_number_is_shown_and_dialled_the_russian_way(stored, shown, dialled):
    assert phone_display(stored) == shown
    assert phone_href(stored) == dialled
