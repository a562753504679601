"""Natural order for names that carry numbers («№ 2» before «№ 11»)."""

import re

_NUMBER = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key that compares digit runs as numbers and the rest case-insensitively.

    Each part is tagged (0 for text, 1 for a number) so that text and numbers in the
    same position never get compared with each other.
    """
    parts: list[tuple[int, int | str]] = []
    for index, chunk in enumerate(_NUMBER.split(text)):
        if index % 2:
            parts.append((1, int(chunk)))
        elif chunk:
            parts.append((0, chunk.casefold().replace("ё", "е")))
    return tuple(parts)
