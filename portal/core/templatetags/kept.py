"""``{% kept "name" key… %}…{% endkept %}``: a part of every page rendered once per process
for each value of its keys (docs/performance.md, issue 25).

The page frame (the head's links, the menu, the footer) is the same on every page, or the
same for one user until a fact it shows changes; rendering it again cost a third of a
wizard page's own time. A kept part is rendered with a marker instead of the CSRF token
and kept under its name, the keys given and the language; each response then puts in its
own token (masked anew per response, as Django's ``{% csrf_token %}`` does). The keys
must name everything the part shows that is not the same for everyone: what is kept is
a rendering of those values, never data that could go stale. At most MAX_KEPT parts are
kept; past that the store starts again.
"""

import datetime
import threading
from collections.abc import Hashable
from typing import Any

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from portal.core.templatetags.render_constants import render_constant

register = template.Library()

MAX_KEPT = 4096
_MARK = "⟨csrf-token-of-this-response⟩"
_kept: dict[Hashable, str] = {}
_lock = threading.Lock()


class KeptNode(template.Node):
    def __init__(self, name: str, keys: list[FilterExpression], nodelist: NodeList) -> None:
        self.name = name
        self.keys = keys
        self.nodelist = nodelist

    def render(self, context: template.Context) -> SafeString:
        token = context.get("csrf_token")
        if token is None:  # rendered without a request: nothing to put a token in
            return mark_safe(self.nodelist.render(context))  # the engine escaped it
        language = render_constant(context, "language", get_language)
        key = (self.name, language, *(_hashable(k.resolve(context)) for k in self.keys))
        html = _kept.get(key)
        if html is None:
            with context.push(csrf_token=_MARK):
                html = self.nodelist.render(context)
            with _lock:
                if len(_kept) >= MAX_KEPT:
                    _kept.clear()
                _kept[key] = html
        if _MARK in html:
            html = html.replace(_MARK, str(token))
        return mark_safe(html)  # rendered, and escaped, by the template engine above


_PLAIN = (type(None), bool, int, float, str, datetime.date, datetime.datetime)


def _hashable(value: Any) -> Hashable:
    """A key made of plain values only: a model instance compares by its id, so a renamed
    one would find the old rendering."""
    if type(value) in _PLAIN:  # most keys: asked first
        return value  # type: ignore[no-any-return]
    if isinstance(value, list | tuple):
        return tuple(_hashable(item) for item in value)
    if type(value) not in _PLAIN:
        raise template.TemplateSyntaxError(
            f"{{% kept %}} keys are plain values, not {type(value).__name__}"
        )
    return value  # type: ignore[no-any-return]


@register.tag
def kept(parser: Parser, token: Token) -> KeptNode:
    bits = token.split_contents()
    if len(bits) < 2 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise template.TemplateSyntaxError('{% kept "name" key… %} needs a quoted name')
    nodelist = parser.parse(("endkept",))
    parser.delete_first_token()
    return KeptNode(bits[1][1:-1], [parser.compile_filter(b) for b in bits[2:]], nodelist)


def kept_forget() -> None:
    """Drop every kept part (tests that change templates or settings)."""
    with _lock:
        _kept.clear()
