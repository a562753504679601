"""The waitlist's notice on «Мои записи»: the booking pages sit below the waitlist and do
not import it, so the page asks for the notice here, by template tag."""

from typing import Any

from django import template

from portal.waitlist.selectors import offers_live_count_for_user

register = template.Library()


@register.inclusion_tag("waitlist/_offers_live_notice.html", takes_context=True)
def offers_live_notice(context: template.Context) -> dict[str, Any]:
    return {"offers_live": offers_live_count_for_user(context["request"].user)}
