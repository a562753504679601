"""The waitlist's notice on «Мои записи»: the booking pages sit below the waitlist and do
not import it, so the page asks for the notice here, by template tag."""

from typing import Any

from django import template

from portal.waitlist.selectors import offers_live_count_for_user

register = template.Library()


@register.inclusion_tag("waitlist/_offers_live_notice.html", takes_context=True)
def offers_live_notice(context: template.Context, read: Any = None) -> dict[str, Any]:
    """``read``: the count as the page's own read brought it along (`apps.WaitlistConfig`);
    anything else (nothing read along: the engine's empty string) and it is read here."""
    if type(read) is not int:
        read = offers_live_count_for_user(context["request"].user)
    return {"offers_live": read}
