"""Formats shared by the portal's pages (issue 27): phone numbers and the like."""

from django import template

from portal.core.phones import phone_display, phone_href

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """«+7 (914) 000-00-02» from any way the number was stored."""
    return phone_display(value or "")


@register.filter
def tel(value: str) -> str:
    """The ``tel:`` target of a number ("" if it is not a Russian number)."""
    return phone_href(value or "")
