"""Stored text as a page shows it (docs/accessibility.md, «Typography»).

Names and numbers are stored as typed, «Детская поликлиника № 1»; every HTML page joins
«№» to its number with a no-break space. Tests that look for a stored name on a page look
for `shown(name)`; the tests of the rule itself spell the no-break space out.
"""

NO_BREAK_SPACE = "\u00a0"


def shown(text: str) -> str:
    """``text`` with «№» joined to the number after it, as every page shows it."""
    return text.replace("№ ", "№" + NO_BREAK_SPACE)
