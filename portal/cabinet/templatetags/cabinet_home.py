"""The cabinet home's sections, drawn inside «Личный кабинет» (`identity/cabinet.html`).

The cabinet page belongs to `identity`, far below the apps whose lists it gathers; like
the waitlist's notice on «Мои записи», the template asks this tag, and the reads stay in
`cabinet.selectors` (docs/architecture.md, «Layers»).
"""

from typing import Any

from django import template
from django.conf import settings

from portal.cabinet.selectors import home_for

register = template.Library()


@register.inclusion_tag("cabinet/_home.html", takes_context=True)
def cabinet_home(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    own, acting = context.get("own_patient"), context.get("acting_patient")
    if own is None or acting is None:
        return {"home": None}
    return {
        "home": home_for(request.user, own, acting),
        "own_patient": own,
        "acting_patient": acting,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "CHILD_MAX_AGE": settings.CHILD_MAX_AGE,
    }
