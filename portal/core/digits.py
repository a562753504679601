"""Digits as people and ESIA mean them: 0-9 only.

``str.isdigit()`` is also true for «²», «٣» or «५», which ``int()`` then refuses (or,
worse, accepts: ``int("١٢٣") == 123``, so an oid in Arabic-Indic digits would name a
second account). Every check of "only digits" goes through this module.
"""

import re

_ASCII_DIGITS = re.compile(r"[0-9]+")


def is_ascii_digits(value: str) -> bool:
    """True for a non-empty string of 0-9 and nothing else."""
    return _ASCII_DIGITS.fullmatch(value) is not None


def ascii_digits_in(value: str) -> str:
    """The 0-9 digits of ``value`` in order (separators and any other digits dropped)."""
    return "".join(_ASCII_DIGITS.findall(value))


def has_foreign_digits(value: str) -> bool:
    """A character that Python counts as a digit but that is not 0-9."""
    return any(ch.isdigit() and not ch.isascii() for ch in value)
