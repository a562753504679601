"""The waitlist's notice on «Мои записи»: the booking pages sit below the waitlist and do
not import it, so the page asks for the notice here, by template tag."""

from typing import Any

from django import template

from portal.waitlist.selectors import OFFERS_LIVE, offers_live_count_for_user

register = template.Library()


@register.inclusion_tag("waitlist/_offers_live_notice.html", takes_context=True)
def offers_live_notice(context: template.Context, along: Any = None) -> dict[str, Any]:
    """``along``: what «Мои записи»'s read brought along (`AppointmentLists.along`), with
    the count under `OFFERS_LIVE` when the list had a row to carry it; else it is read here."""
    read = along.get(OFFERS_LIVE) if isinstance(along, dict) else None
    if read is None:
        read = offers_live_count_for_user(context["request"].user)
    return {"offers_live": read}
