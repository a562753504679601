"""A last line of defence for personal data in logs (152-FZ).

Code must not log SNILS or policy numbers in the first place; this filter masks
them if it ever happens, including inside exception messages and arguments.
"""

import logging
import re

_PATTERNS = [
    re.compile(r"\b\d{3}-\d{3}-\d{3}[ -]?\d{2}\b"),  # SNILS as shown
    re.compile(r"(?<!\d)\d{9,16}(?!\d)"),  # ЕНП, temporary certificate, bare SNILS
]
MASK = "[скрыто]"


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True
