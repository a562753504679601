"""A WSGI handler that serves only the emulator's URLs inside an existing process.

Tests run the emulator on its own port in a thread with this handler, so the portal
reaches it over real HTTP exactly as it reaches ESIA.
"""

from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponseBase

EMULATOR_URLCONF = "portal.esia_emulator.root_urls"


class EmulatorWSGIHandler(WSGIHandler):
    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        request.urlconf = EMULATOR_URLCONF
        return super().get_response(request)
