"""The cabinet's panel of home visits: the cabinet page sits below this app and does not
import it, so it asks for the panel here, by template tag."""

from typing import Any

from django import template

from portal.home_visits.selectors import visits_visible_to

register = template.Library()


@register.inclusion_tag("home_visits/_cabinet_panel.html", takes_context=True)
def home_visits_panel(context: template.Context) -> dict[str, Any]:
    user = context["request"].user
    return {"visits": list(visits_visible_to(user)[:3])}
