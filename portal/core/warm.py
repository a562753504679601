"""A process made ready to serve before its first request (docs/performance.md,
«Workers forked warm»): what every worker would otherwise build on its first requests.

Reads files only — no database, no cache, no network — so that gunicorn's master can run
it before it forks its workers (`portal/gunicorn_conf.py`)."""

import logging
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.template import TemplateSyntaxError, engines
from django.urls import get_resolver
from django.utils import translation

logger = logging.getLogger(__name__)
TEMPLATE_SUFFIXES = (".html", ".txt", ".ics", ".xml")


def _template_names() -> list[str]:
    """Every template of the project's own directories and apps, by the name a view uses."""
    roots = [Path(d) for e in settings.TEMPLATES for d in e.get("DIRS", [])]
    roots += [Path(app.path) / "templates" for app in apps.get_app_configs()]
    names = []
    for root in roots:
        if root.is_dir():
            names += [
                p.relative_to(root).as_posix()
                for p in sorted(root.rglob("*"))
                if p.suffix in TEMPLATE_SUFFIXES and p.is_file()
            ]
    return names


def templates_compile() -> int:
    """Each template read and compiled into the engine's cached loader; a name found in
    two places compiles what a view would get (the first, as the loader searches)."""
    engine = engines["django"]
    count = 0
    for name in _template_names():
        try:
            engine.get_template(name)
        except TemplateSyntaxError:
            # The view that renders it will raise the same error where it is seen.
            logger.exception("template %s does not compile", name)
            continue
        count += 1
    return count


def process_warm() -> int:
    """URLconf (and so every view module) imported and its reverse table built, the
    catalogs of the site's language read, every template compiled. Returns how many
    templates were compiled."""
    resolver = get_resolver()
    resolver.reverse_dict  # noqa: B018 — populates the resolver's tables, by design
    translation.activate(settings.LANGUAGE_CODE)
    try:
        return templates_compile()
    finally:
        translation.deactivate()


def connections_drop() -> None:
    """Close this process's database connections before a fork: a socket inherited by
    two workers would interleave their conversations. (Django's cache backends close what
    they hold; redis-py's pool also starts afresh in a forked process.)"""
    connections.close_all()
    caches.close_all()
