"""Turn a database outage into a calm "try again" page instead of a stack trace.

A hung or dead primary ends every wait within seconds (`portal.core.postgresql`), and
the error lands here: a Russian 503 with ``Retry-After`` for the pages, and for a part
of the site that answers in its own format (the FHIR API's OperationOutcome) whatever
that part registered with `outage_responder_register` (docs/operations.md, «Degraded
mode»).
"""

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

# Errors of the connection, not of the query: PostgreSQL restarting, a failover, the
# network. Integrity errors and the like are bugs and stay 500s.
DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


Responder = Callable[[], HttpResponse]
# Path prefix -> the 503 in that part's own format; apps register theirs in ready(), so
# core needs no import of them.
_RESPONDERS: dict[str, Responder] = {}


def outage_responder_register(prefix: str, responder: Responder) -> None:
    _RESPONDERS[prefix] = responder


def database_unavailable_response(path: str = "") -> HttpResponse:
    response = next(
        (responder() for prefix, responder in _RESPONDERS.items() if path.startswith(prefix)),
        None,
    )
    if response is None:
        # Rendered without a request: context processors would query the database again.
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # For `core.degraded`, which may answer a read-only page from the replica instead.
    response.database_unavailable = True  # type: ignore[attr-defined]
    return response


class DatabaseUnavailableMiddleware:
    """503 with Retry-After when a view hits a dead database connection.

    Django's CONN_HEALTH_CHECKS drop the broken connection at the next request, so the
    portal recovers by itself once the database is back; nothing to restart.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_DOWN):
            return None
        # The exception text may quote SQL parameters: log its type only.
        logger.warning("Database unavailable during %s: %s", request.path, type(exception).__name__)
        return database_unavailable_response(request.path)
