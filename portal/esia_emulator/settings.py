"""Settings of the ESIA emulator as its own process (own origin, e.g. :8001).

    DJANGO_SETTINGS_MODULE=portal.esia_emulator.settings manage.py runserver 127.0.0.1:8001

Same project and configuration as the portal, but only the emulator's URLs, and its own
cookie names: browsers share cookies between ports of one host.
"""

from django.core.exceptions import ImproperlyConfigured

from portal.settings import *  # noqa: F403
from portal.settings import ESIA_EMULATOR_ENABLED

if not ESIA_EMULATOR_ENABLED:
    raise ImproperlyConfigured("The ESIA emulator is switched off (ESIA_EMULATOR_ENABLED)")

ROOT_URLCONF = "portal.esia_emulator.root_urls"
SESSION_COOKIE_NAME = "esia_emulator_session"
CSRF_COOKIE_NAME = "esia_emulator_csrf"
