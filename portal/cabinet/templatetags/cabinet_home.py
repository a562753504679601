"""The cabinet home's sections, drawn inside «Личный кабинет» (`identity/cabinet.html`).

The cabinet page belongs to `identity`, far below the apps whose lists it gathers; like
the waitlist's notice on «Мои записи», the template asks this tag, and the reads stay in
`cabinet.selectors` (docs/architecture.md, «Layers»). The page shows the home
(`cabinet/_home.html`) and, further down, the home visits' panel from the same read.
"""

from django import template

from portal.cabinet.selectors import Home, home_for

register = template.Library()


@register.simple_tag(takes_context=True)
def cabinet_home(context: template.Context) -> Home | None:
    request = context["request"]
    own, acting = context.get("own_patient"), context.get("acting_patient")
    if own is None or acting is None:
        return None
    return home_for(request.user, own, acting)
