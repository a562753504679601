"""Ticket codes read back at the window whatever the keyboard layout or the scanner."""

from portal.scheduling.tickets import (
    ticket_code_ascii,
    ticket_code_candidates,
    ticket_code_new,
)

LEGACY = "4К7Н0ТРЕ2С"  # an older code: digits and Cyrillic letters that look Latin
# What each key of a ЙЦУКЕН keyboard types with the Russian layout on.
RUSSIAN_LAYOUT = str.maketrans(
    "qwertyuiop[]asdfghjkl;'zxcvbnm,./QWERTYUIOP{}ASDFGHJKL:\"ZXCVBNM<>?",
    "йцукенгшщзхъфывапролджэячсмитьбю.ЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮ,",
)


def test_new_codes_are_twelve_digits_the_same_on_every_layout():
    code = ticket_code_new()
    assert len(code) == 12 and code.isdigit()
    assert ticket_code_candidates(code) == [code]


def test_an_old_code_typed_with_latin_look_alikes_is_found():
    assert LEGACY in ticket_code_candidates("4K7H0TPE2C")


def test_an_old_code_typed_on_the_latin_layout_as_if_russian_is_found():
    # The Cyrillic letters' keys on a ЙЦУКЕН keyboard, typed with the Latin layout on.
    assert LEGACY in ticket_code_candidates("4R7Y0NHT2C")


def test_an_old_code_typed_in_lower_case_with_spaces_is_found():
    assert LEGACY in ticket_code_candidates(" 4к7н 0тре-2с ")


def test_a_scanned_address_gives_its_code_on_either_layout():
    url = f"http://127.0.0.1:8000/workspace/ticket/{ticket_code_ascii(LEGACY)}/"
    assert LEGACY in ticket_code_candidates(url)
    # The same keys pressed by a scanner while the Russian layout is on.
    russian = url.translate(RUSSIAN_LAYOUT)
    assert LEGACY in ticket_code_candidates(russian)
    assert ticket_code_candidates("http://127.0.0.1:8000/workspace/ticket/123456789012/") == [
        "123456789012"
    ]


def test_text_that_cannot_be_a_code_finds_nothing():
    assert ticket_code_candidates("") == []
    assert ticket_code_candidates("привет") == []
    assert ticket_code_candidates("1" * 13) == []
