"""The peer's WSGI application for gunicorn.

django-appointment's modules give their loggers a DEBUG level and a stdout handler of their
own when imported, past Django's LOGGING; `logging.disable(INFO)` silences INFO and below in
the whole process instead, so the peer writes no log line per request, as the portal's bench
writes none (this favours the peer, not the portal).
"""

import logging
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peer_project.settings")
logging.disable(logging.INFO)

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
