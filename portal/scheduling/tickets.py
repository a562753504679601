"""Ticket codes (талоны) and what the window reads back from them (docs/workspace.md,
«The window»).

A code is typed at the registry window on whatever keyboard layout is on, or read by a
handheld scanner that "types" the QR code's text on the window's layout. So:

- new codes are digits only: a digit is the same key, and the same character, on the
  Latin and the ЙЦУКЕН layouts;
- older codes mixed digits with the Cyrillic letters that look Latin (``LEGACY_LETTERS``);
  they stay findable: each typed letter is read as its look-alike and as the key it sits
  on in the other layout, and every reading is looked up (`ticket_code_candidates`);
- the QR code holds ASCII only (`ticket_payload`), so a scanner needs no ECI marker to
  read it; an older code is written there with its Latin look-alikes.
"""

import itertools
import re
import secrets

TICKET_DIGITS = 12
# The alphabet of codes issued before digit-only codes (kept to find them).
LEGACY_LETTERS = "АВЕКМНРСТХ"
# Cyrillic letter → the Latin letter that looks like it (and back).
_LOOKALIKE = dict(zip("АВЕКМНРСТХ", "ABEKMHPCTX", strict=True))
_LOOKALIKE_BACK = {latin: cyr for cyr, latin in _LOOKALIKE.items()}
# The keys of a ЙЦУКЕН keyboard: what a Latin layout types on the key of a Cyrillic letter.
_CYR_KEYS = "ЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮ"
_LAT_KEYS = "QWERTYUIOP[]ASDFGHJKL;'ZXCVBNM,."
_CYR_TO_KEY = dict(zip(_CYR_KEYS, _LAT_KEYS, strict=True))
_KEY_TO_CYR = {key: cyr for cyr, key in _CYR_TO_KEY.items()}
# The Russian layout types "." on the Latin "/" key and "Ж" on ":" (shifted ";").
_SEPARATORS = re.compile(r"[/.?#=&\\]+")
_DROPPED = re.compile(r"[\s\-–—]+")
CANDIDATES_MAX = 64


def ticket_code_new() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(TICKET_DIGITS))


def ticket_code_ascii(code: str) -> str:
    """The code as the QR code and a workspace address carry it: ASCII only."""
    return "".join(_LOOKALIKE.get(char, char) for char in code)


def _readings(char: str) -> set[str]:
    """What a typed (or scanned) character may stand for in a ticket code."""
    if char.isdigit():
        return {char}
    readings = set()
    if char in LEGACY_LETTERS:
        readings.add(char)
    if char in _LOOKALIKE_BACK:  # a Latin look-alike
        readings.add(_LOOKALIKE_BACK[char])
    if char in _KEY_TO_CYR and _KEY_TO_CYR[char] in LEGACY_LETTERS:  # typed on Latin layout
        readings.add(_KEY_TO_CYR[char])
    key = _CYR_TO_KEY.get(char)  # a Latin look-alike typed on the Russian layout
    if key is not None and key in _LOOKALIKE_BACK:
        readings.add(_LOOKALIKE_BACK[key])
    return readings


def ticket_code_typed(text: str) -> str:
    """The part of the field's text that is the code: the whole text when a clerk typed a
    code, the last segment of the address when a scanner typed the QR code's URL (on the
    Russian layout a "/" arrives as ".", so both split)."""
    text = _DROPPED.sub("", text.upper())
    segments = [part for part in _SEPARATORS.split(text) if part]
    return segments[-1] if segments else ""


def ticket_code_candidates(text: str) -> list[str]:
    """Every stored code the text may mean, at most ``CANDIDATES_MAX`` (no code has more
    than a few ambiguous letters); empty if it cannot be a ticket code at all."""
    code = ticket_code_typed(text)
    if not code or len(code) > TICKET_DIGITS:
        return []
    readings = [sorted(_readings(char)) for char in code]
    if not all(readings):
        return []
    combinations = itertools.islice(itertools.product(*readings), CANDIDATES_MAX)
    return ["".join(parts) for parts in combinations]
