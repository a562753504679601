"""The template engine's settings for portal/settings.py (kept apart: settings.py stays
under the architecture test's 600 lines)."""

from pathlib import Path
from typing import Any


def templates(base_dir: Path) -> list[dict[str, Any]]:
    return [
        {
            # Django's, with a {% translate "literal" %} that remembers
            # (core/templates_backend.py, docs/performance.md).
            "BACKEND": "portal.core.templates_backend.PortalTemplates",
            "NAME": "django",
            "DIRS": [base_dir / "portal" / "templates"],
            "APP_DIRS": True,
            "OPTIONS": {
                # {% url %}, date and time, remembering what they answered; {% extends %}
                # finding the root's blocks once.
                "builtins": [
                    "portal.core.templatetags.reversed_urls",
                    "portal.core.templatetags.remembered_formats",
                    "portal.core.templatetags.remembered_extends",
                ],
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                    "portal.patients.context_processors.acting",
                    "portal.core.context_processors.accessibility",
                    "portal.core.context_processors.replica",
                ],
            },
        },
    ]
