"""A last line of defence for personal data in logs (152-FZ), and against forged lines.

Code must not log SNILS or policy numbers in the first place; this filter masks
them if it ever happens, including inside exception messages and arguments. It also
escapes control characters in the message, so text from a request cannot add lines.
Every handler of the portal carries it, the dev server's request log included.
"""

import logging
import re

_PATTERNS = [
    # SNILS as shown, also URL-encoded in a request line ("%20" for the space)
    re.compile(r"\b\d{3}-\d{3}-\d{3}(?:[ -]|%20)?\d{2}\b"),
    re.compile(r"(?<!\d)\d{9,16}(?!\d)"),  # ЕНП, temporary certificate, bare SNILS
]
MASK = "[скрыто]"


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


# A line break or another control character in a message (a URL path, a query
# parameter someone logged) would start a forged log line: shown escaped instead.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = escape_controls(redact(message))
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True
