"""``{% url %}`` that remembers what it has reversed (a template builtin, settings.TEMPLATES).

Django's ``reverse`` walks the resolver on every call, 30–50 µs; a patient page reverses
25–60 addresses (the menu, the wizard's tiles and times) that are the same on every
request, a millisecond of each page (docs/performance.md, issue 25). This tag is Django's
own (same syntax, same errors, same escaping) and keeps each answer by everything a
reversal depends on: the name, the arguments (ints and strings only; anything else is
reversed every time), the current app, the URLconf and the script prefix. The URLconf
never changes while a process runs, so nothing here goes stale.

An address of whole-number arguments (a ticket's, an appointment's, a journal's) is new
for every patient's first page in a process: 20–40 µs a reversal, four on a cabinet
(docs/performance.md, «Addresses by their shape»). For those, Django is asked once per
view name and number of arguments, with two sets of stand-in numbers of different
lengths; when both answers are the same text with the numbers written in as they are,
the text around them is kept and later numbers are written into it. A route that would
not take every number (a pattern of fixed length) refuses a stand-in, and keeps Django's
reversal every time.
"""

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.base import Parser, Token
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

from portal.core.templatetags.render_constants import render_constant

register = template.Library()


@lru_cache(maxsize=8192)
def _reversed(
    view_name: str,
    args: tuple[Any, ...],
    kwargs: tuple[tuple[str, Any], ...],
    current_app: str | None,
    urlconf: str | None,
    prefix: str,
) -> str:
    del prefix  # part of the key: reverse() reads it itself
    return reverse(
        view_name, urlconf=urlconf, args=args, kwargs=dict(kwargs), current_app=current_app
    )


# Two stand-ins of different lengths: an argument Django writes in as it is shows in both.
_LONG, _SHORT = 918_273_645_001, 7


@lru_cache(maxsize=1024)
def _cut(
    view_name: str, count: int, current_app: str | None, urlconf: str | None, prefix: str
) -> tuple[str, ...] | None:
    """The address of ``view_name`` with ``count`` whole-number arguments, cut where they
    go (``count`` + 1 pieces), or None when Django does not write them in as they are."""
    long = [_LONG + i for i in range(count)]
    short = [_SHORT + i for i in range(count)]
    try:
        as_long = _reversed(view_name, tuple(long), (), current_app, urlconf, prefix)
        as_short = _reversed(view_name, tuple(short), (), current_app, urlconf, prefix)
    except NoReverseMatch:
        return None
    pieces, rest = [], as_long
    for number in long:
        before, found, rest = rest.partition(str(number))
        if not found or str(number) in rest:
            return None
        pieces.append(before)
    pieces.append(rest)
    if _joined(pieces, short) != as_short:
        return None
    return tuple(pieces)


def _joined(pieces: Sequence[str], numbers: Sequence[int]) -> str:
    """The address whose pieces `_cut` kept, with ``numbers`` written in between."""
    out = [pieces[0]]
    for number, piece in zip(numbers, pieces[1:], strict=True):
        out += [str(number), piece]
    return "".join(out)


def _address(
    view_name: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    current_app: str | None,
    urlconf: str | None,
    prefix: str,
) -> str:
    if args and not kwargs and all(type(a) is int and a >= 0 for a in args):
        pieces = _cut(view_name, len(args), current_app, urlconf, prefix)
        if pieces is not None:
            return _joined(pieces, args)
    return _reversed(view_name, args, tuple(sorted(kwargs.items())), current_app, urlconf, prefix)


def _urlconf() -> str:
    return get_urlconf() or settings.ROOT_URLCONF


def _plain(value: Any) -> bool:
    return type(value) in (int, str)


class RememberedURLNode(URLNode):
    def render(self, context: template.Context) -> str:
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        if not (
            isinstance(view_name, str)
            and all(_plain(a) for a in args)
            and all(_plain(v) for v in kwargs.values())
        ):
            return super().render(context)  # Django's own path, unchanged
        request = getattr(context, "request", None)
        try:
            current_app = request.current_app  # type: ignore[union-attr]
        except AttributeError:  # as Django's tag: the namespace of the view being served
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        url = ""
        try:
            url = _address(
                view_name,
                tuple(args),
                kwargs,
                current_app,
                # Set by the handler before the view: read once per render.
                render_constant(context, "urlconf", _urlconf),
                render_constant(context, "script_prefix", get_script_prefix),
            )
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    """Tests that change the URLconf (override_settings) get fresh answers."""
    if setting == "ROOT_URLCONF":
        _reversed.cache_clear()
        _cut.cache_clear()


@register.tag
def url(parser: Parser, token: Token) -> URLNode:
    node = django_url(parser, token)
    return RememberedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
