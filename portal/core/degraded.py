"""Read-only pages from the replica while the primary does not answer (degraded mode).

With `DATABASE_REPLICA_URL` configured, a GET of one of `READ_ONLY_PAGES` — a patient's
appointments, ticket and calendar file, the clinic directory — that got the outage's 503
(`core.outage`) is run once more with every read on the replica
(`dbrouter.replica_reads_everything`), however far behind it is; the page then says that
what it shows may be out of date (``request.reads_from_replica``, `templates/base.html`)
and carries ``X-Data-Source: replica``. While this process has just seen the primary not
answer (`core.postgresql.unanswered_recently`), such a page goes to the replica at once.

Nothing is written meanwhile: the session is not re-saved, and any write goes to the
primary and fails there as the 503. Every other page, and every POST, gets the 503.
"""

from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from portal.core import dbrouter

# URL names of pages that only read and are worth showing from a stale copy.
READ_ONLY_PAGES = frozenset({
    "scheduling:appointment_list",
    "scheduling:appointment_ticket",
    "scheduling:appointment_ics",
    "directory:district_list",
    "directory:district_detail",
    "directory:clinic_detail",
})  # fmt: skip


def _primary_unanswered_recently() -> bool:
    from portal.core.postgresql.base import unanswered_recently

    return unanswered_recently(DEFAULT_DB_ALIAS)


def read_only_page(request: HttpRequest) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return match.view_name in READ_ONLY_PAGES


class ReplicaReadsMiddleware:
    """Placed right after SessionMiddleware, so that it wraps the user's look-up, the
    view and the session's touch, and can keep the session from being saved."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not dbrouter.replica_configured() or not read_only_page(request):
            return self.get_response(request)
        first: HttpResponse | None = None
        if not _primary_unanswered_recently():
            first = self.get_response(request)
            if not getattr(first, "database_unavailable", False):
                return first
        fallback = self._from_replica(request)
        if not getattr(fallback, "database_unavailable", False) or first is None:
            return fallback
        return first

    def _from_replica(self, request: HttpRequest) -> HttpResponse:
        # What the failed pass may have half-memoised (only successes are cached).
        for memo in ("_cached_user", "_acting_patient", "_own_patient"):
            request.__dict__.pop(memo, None)
        request.reads_from_replica = True  # type: ignore[attr-defined]
        with dbrouter.replica_reads_everything():
            response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None:
            session.modified = False  # the session lives on the primary
        if not getattr(response, "database_unavailable", False):
            response["X-Data-Source"] = "replica"
        return response
