"""Values that cannot change while one template renders, read once per render.

The active language's catalog, the URLconf and the script prefix live in asgiref
``Local`` objects (Django's ``trans_real._active``, ``urls.base._urlconfs`` and
``_prefixes``): each read takes a lock and a context variable, 1.5–2.5 µs. The remembered
tags asked for them on every tag, 56–100 reads on a patient page, about 4 % of it
(docs/performance.md, «Values read once per render»). They are constant for a whole
render: the handler sets the URLconf and the prefix before the view runs, and the language
changes only inside ``{% language %}``, whose node here starts a fresh memo for its
block (`remembered_i18n.MemoLanguageNode`).

The memo is an attribute of the template ``Context``: a page's render makes one, and
``Context.new()`` (``{% include … only %}``) copies its attributes, so an included
template shares it; the next render, request or e-mail starts without one.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.template import Context

_MEMO = "_portal_render_constants"
T = TypeVar("T")


def render_constant(context: Context, name: str, read: Callable[[], T]) -> T:
    """``read()``, asked once per render of ``context`` under ``name``."""
    memo: dict[str, Any] | None = context.__dict__.get(_MEMO)
    if memo is None:
        memo = context.__dict__[_MEMO] = {}
    try:
        return memo[name]  # type: ignore[no-any-return]
    except KeyError:
        value = memo[name] = read()
        return value


@contextmanager
def fresh_render_constants(context: Context) -> Iterator[None]:
    """Inside, the constants are read again (another language is active); after, the
    render's own are back."""
    saved = context.__dict__.get(_MEMO)
    context.__dict__[_MEMO] = {}
    try:
        yield
    finally:
        context.__dict__[_MEMO] = saved
