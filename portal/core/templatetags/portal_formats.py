"""Formats shared by the portal's pages (issue 27): phone numbers, «№» and the like."""

from django import template

from portal.core.phones import phone_display, phone_href
from portal.core.typography import join_numero

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """«+7 (914) 000-00-02» from any way the number was stored."""
    return phone_display(value or "")


@register.filter
def tel(value: str) -> str:
    """The ``tel:`` target of a number ("" if it is not a Russian number)."""
    return phone_href(value or "")


@register.filter
def numero(value: str) -> str:
    """«№» joined to its number, for HTML built outside a page (an e-mail's HTML part).

    Pages need no filter: NumeroJoinMiddleware joins every HTML response. The value is
    escaped as usual afterwards; a no-break space needs no escaping.
    """
    return join_numero(str(value or ""))
