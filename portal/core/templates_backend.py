"""Django's template backend, with Django's ``i18n`` library swapped for the portal's
(settings.TEMPLATES).

``{% load i18n %}`` then loads `core.templatetags.remembered_i18n`: Django's own tags
and filters, whose ``{% translate "literal" %}`` remembers its text per catalog
(docs/performance.md, issue 25). A builtin cannot do it (every template loads ``i18n``
after the builtins), and the ``libraries`` option would register a second module under
the name ``i18n``, which Django's check reports as a likely mistake (templates.W003):
this one is meant.
"""

from typing import Any

from django.template.backends.django import DjangoTemplates
from django.template.library import import_library

REMEMBERED_I18N = "portal.core.templatetags.remembered_i18n"


class PortalTemplates(DjangoTemplates):
    def __init__(self, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.engine.template_libraries["i18n"] = import_library(REMEMBERED_I18N)
