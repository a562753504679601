"""``{% url %}`` that remembers what it has reversed (a template builtin, settings.TEMPLATES).

Django's ``reverse`` walks the resolver on every call, 30–50 µs; a patient page reverses
25–60 addresses (the menu, the wizard's tiles and times) that are the same on every
request, a millisecond of each page (docs/performance.md, issue 25). This tag is Django's
own (same syntax, same errors, same escaping) and keeps each answer by everything a
reversal depends on: the name, the arguments (ints and strings only; anything else is
reversed every time), the current app, the URLconf and the script prefix. The URLconf
never changes while a process runs, so nothing here goes stale.
"""

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
            url = _reversed(
                view_name,
                tuple(args),
                tuple(sorted(kwargs.items())),
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


@register.tag
def url(parser: Parser, token: Token) -> URLNode:
    node = django_url(parser, token)
    return RememberedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
