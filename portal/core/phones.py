"""Phone numbers as people read and dial them (issue 27): «+7 (914) 000-00-02», never
«79140000002». Russian numbers only; anything else is shown as it was given."""

import re

# Area codes of the region's landlines are 4 digits (Irkutsk 3952, Bratsk 3953, …);
# a mobile's code is 3 digits starting with 9.
_LANDLINE_CODE = 4


def _digits(raw: str) -> str:
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 11 and digits[0] in "78":
        return "7" + digits[1:]
    if len(digits) == 10:
        return "7" + digits
    return ""


def phone_display(raw: str) -> str:
    digits = _digits(raw)
    if not digits:
        return raw
    national = digits[1:]
    code_length = 3 if national.startswith("9") else _LANDLINE_CODE
    code, rest = national[:code_length], national[code_length:]
    groups = [rest[:-4], rest[-4:-2], rest[-2:]] if len(rest) > 4 else [rest]
    return f"+7 ({code}) " + "-".join(g for g in groups if g)


def phone_href(raw: str) -> str:
    """The ``tel:`` link target: +7 and the digits."""
    digits = _digits(raw)
    return f"tel:+{digits}" if digits else ""
