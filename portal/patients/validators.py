"""Check digits of Russian health identifiers (docs/oms-policy.md)."""

import re

from portal.core.digits import ascii_digits_in, is_ascii_digits

_SPACES = re.compile(r"\s+")


def name_key(value: str) -> str:
    """Names compare case-insensitively, ё = е, spacing ignored (docs/domain.md, «Relatives»)."""
    return _SPACES.sub(" ", value.replace("ё", "е").replace("Ё", "Е")).strip().casefold()


def enp_control_digit(first15: str) -> int:
    """Control digit of a unified policy number (ЕНП) from its first 15 digits."""
    if len(first15) != 15 or not is_ascii_digits(first15):
        raise ValueError("ЕНП body must be 15 digits")
    odd = "".join(first15[i] for i in range(14, -1, -2))[::-1]  # odd positions from the right
    even = "".join(first15[i] for i in range(13, -1, -2))[::-1]
    doubled = str(int(odd) * 2)
    total = sum(int(d) for d in even + doubled)
    return (10 - total % 10) % 10


def is_valid_enp(number: str) -> bool:
    if len(number) != 16 or not is_ascii_digits(number):
        return False
    return enp_control_digit(number[:15]) == int(number[15])


def snils_digits(value: str) -> str:
    return ascii_digits_in(value)


def snils_checksum(first9: str) -> int:
    total = sum(int(d) * w for d, w in zip(first9, range(9, 0, -1), strict=True))
    if total > 101:
        total %= 101
    return 0 if total in (100, 101) else total


def is_valid_snils(value: str) -> bool:
    digits = snils_digits(value)
    if len(digits) != 11 or len(value) > 14:
        return False
    # Numbers up to 001-001-998 were issued before check digits existed.
    if int(digits[:9]) <= 1001998:
        return True
    return snils_checksum(digits[:9]) == int(digits[9:])


def format_snils(value: str) -> str:
    d = snils_digits(value)
    return f"{d[0:3]}-{d[3:6]}-{d[6:9]} {d[9:11]}"
