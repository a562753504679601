"""«№» never split from its number (issue 27; docs/accessibility.md, «Typography»).

Russian typography joins «№» to the number after it with a no-break space (U+00A0): a
phone must not end a line with «Детская поликлиника №» and start the next with «1». The
stored text stays as typed («№ 1» in the database, the API, SMS and plain-text e-mail);
the no-break space is put in where HTML is shown, by `join_numero_html` for every HTML
page (`core.middleware.NumeroJoinMiddleware`) and the HTML part of e-mails.
"""

import re

NO_BREAK_SPACE = "\u00a0"
NUMERO = "№"

# Ordinary spaces, tabs or line ends between «№» and what follows it; «№123» and
# «№&nbsp;1» have none and stay as they are. A «<» after them is a tag, not a number
# (an empty «№ </td>» gets no no-break space of its own).
_NUMERO_SPACE = re.compile(r"№[ \t\r\n]+(?=[^\s<])")
_JOINED = NUMERO + NO_BREAK_SPACE

# Elements whose content is not text shown on the page: a textarea's content is a form
# value that would be saved with the no-break space; scripts and styles are code. The
# portal's templates and Django's widgets write tags in lower case.
_RAW_TEXT_TAGS = ("<textarea", "<script", "<style")
_RAW_TEXT = re.compile(r"<(textarea|script|style)\b.*?</\1\s*>", re.DOTALL)


def join_numero(text: str) -> str:
    """«Поликлиника № 1» → «Поликлиника №\u00a01», for text that is shown, not stored."""
    if NUMERO not in text:
        return text
    return _NUMERO_SPACE.sub(_JOINED, text)


def _raw_text_spans(html: str) -> list[tuple[int, int]]:
    if not any(tag in html for tag in _RAW_TEXT_TAGS):
        return []
    return [match.span() for match in _RAW_TEXT.finditer(html)]


def join_numero_html(html: str) -> str:
    """`join_numero` over the text of an HTML document, never inside a tag or a textarea.

    An attribute keeps its ordinary space: an input's ``value`` is what a clerk editing a
    clinic's name saves, and it must be saved as typed.
    """
    if NUMERO not in html or not _NUMERO_SPACE.search(html):
        return html
    raw_text = _raw_text_spans(html)

    def join(match: re.Match[str]) -> str:
        at = match.start()
        inside_tag = html.rfind("<", 0, at) > html.rfind(">", 0, at)
        if inside_tag or any(start <= at < end for start, end in raw_text):
            return match.group()
        return _JOINED

    return _NUMERO_SPACE.sub(join, html)
