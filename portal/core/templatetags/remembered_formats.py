"""The ``date`` and ``time`` filters, remembering what they formatted (a template builtin,
settings.TEMPLATES).

Django's filters build a formatter, split the format and look up translated month and
weekday names on every call: 17–22 µs, and «Мои записи» or the cabinet format three
times per appointment (docs/performance.md, issue 25). The text depends only on the value
(as the template sees it: already in the current time zone), the format and the active
language, plus settings a test may change; so the answer is kept by exactly those, and
each miss is Django's own filter. Values of any other kind, and the unhashable, go
straight to Django's filter.
"""

import datetime
from typing import Any

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import defaultfilters
from django.utils.translation import get_language

register = template.Library()

MAX_REMEMBERED = 8192
_formatted: dict[tuple[Any, ...], str] = {}


def _key(kind: str, value: Any, arg: Any) -> tuple[Any, ...] | None:
    """Everything the formatted text depends on; None: not remembered."""
    if type(value) is datetime.datetime:
        # An aware value compares by its instant: its wall time and zone are the key.
        plain: Any = (value.replace(tzinfo=None), value.tzinfo, value.fold)
    elif type(value) in (datetime.date, datetime.time):
        plain = (type(value), value)
    else:
        return None
    if arg is not None and not isinstance(arg, str):  # a template's literal is a SafeString
        return None
    key = (kind, plain, arg, get_language())
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _remembered(kind: str, value: Any, arg: Any, format_: Any) -> str:
    key = _key(kind, value, arg)
    if key is None:
        return str(format_(value, arg))
    text = _formatted.get(key)
    if text is None:
        text = str(format_(value, arg))
        if len(_formatted) >= MAX_REMEMBERED:
            _formatted.clear()
        _formatted[key] = text
    return text


@register.filter(expects_localtime=True, is_safe=False)
def date(value: Any, arg: Any = None) -> str:
    """Django's ``date``."""
    return _remembered("date", value, arg, defaultfilters.date)


@register.filter(expects_localtime=True, is_safe=False)
def time(value: Any, arg: Any = None) -> str:
    """Django's ``time``."""
    return _remembered("time", value, arg, defaultfilters.time)


@receiver(setting_changed)
def _forget(**kwargs: Any) -> None:
    """Tests that change formats, the time zone or the languages get fresh answers."""
    _formatted.clear()
