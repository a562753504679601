"""A database that goes away mid-request gives a Russian "try again" page, not a trace."""

import json
from unittest import mock

import pytest
from django.db import IntegrityError, InterfaceError, OperationalError
from django.test import RequestFactory

from portal.core import views
from portal.core.outage import DatabaseUnavailableMiddleware

pytestmark = pytest.mark.django_db


def assert_try_again_page(response) -> None:
    text = response.content.decode()
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "Сервис временно недоступен" in text and "попробуйте ещё раз" in text
    assert "Traceback" not in text and "OperationalError" not in text


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_view_losing_the_database_answers_503_in_russian(client, patient, error):
    client.force_login(patient)
    with mock.patch(
        "portal.scheduling.views.selectors.appointments_list_for_user",
        side_effect=error("server closed the connection unexpectedly"),
    ):
        response = client.get("/appointments/")
    assert_try_again_page(response)


def test_other_database_errors_are_not_disguised_as_an_outage():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
    request = RequestFactory().get("/")
    assert middleware.process_exception(request, IntegrityError("bug")) is None
    assert middleware.process_exception(request, ValueError("bug")) is None


def test_an_outage_outside_a_view_also_gets_the_try_again_page(rf):
    """handler500 runs inside Django's except block: it sees the database error."""
    try:
        raise OperationalError("the database system is shutting down")
    except OperationalError:
        response = views.server_error(rf.get("/"))
    assert_try_again_page(response)
    try:
        raise ValueError("a bug")
    except ValueError:
        assert views.server_error(rf.get("/")).status_code == 500


# --- degraded mode (issue 24, point 2) ---------------------------------------------------


def test_an_outage_outside_the_api_views_still_answers_fhir(rf):
    try:
        raise OperationalError("connection timeout expired")
    except OperationalError:
        response = views.server_error(rf.get("/fhir/Appointment"))
    assert response.status_code == 503
    assert json.loads(response.content)["resourceType"] == "OperationOutcome"
    try:
        raise OperationalError("connection timeout expired")
    except OperationalError:
        assert_try_again_page(views.server_error(rf.get("/appointments/")))


def _databases() -> dict:
    """DATABASES as settings build them from the environment, with the settings' timeouts."""
    from pathlib import Path

    from django.conf import settings

    from portal.database_settings import databases_from_env

    return databases_from_env(
        Path("/nonexistent"),
        connect_timeout=settings.DB_CONNECT_TIMEOUT,
        statement_timeout_ms=settings.DB_STATEMENT_TIMEOUT_MS,
        idle_in_transaction_ms=settings.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    )


def test_every_postgresql_alias_has_connect_statement_and_idle_timeouts(monkeypatch):
    """Before: the primary had neither a connect nor a statement timeout."""
    monkeypatch.setenv("DATABASE_URL", "postgres://portal@db.example:5432/portal")
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://portal@replica.example:5432/portal")
    databases = _databases()
    assert set(databases) == {"default", "replica"}
    for alias, database in databases.items():
        options = database["OPTIONS"]
        assert database["ENGINE"] == "portal.core.postgresql", alias
        assert 0 < options["connect_timeout"] <= 3, alias
        assert "statement_timeout=8000" in options["options"], alias
        assert "idle_in_transaction_session_timeout=60000" in options["options"], alias
        assert options["answer_timeout"] == 9.0, alias
        assert options["keepalives"] == 1, alias
        assert database["CONN_HEALTH_CHECKS"] is True, alias


def test_a_statement_timeout_shorter_than_the_lock_timeout_is_refused(settings):
    from portal.core.checks import statement_timeout_outlasts_the_lock_timeout

    assert statement_timeout_outlasts_the_lock_timeout(None) == []
    settings.DB_STATEMENT_TIMEOUT_MS = settings.SCHEDULING_LOCK_TIMEOUT_MS
    assert [e.id for e in statement_timeout_outlasts_the_lock_timeout(None)] == ["portal.E010"]
    settings.DB_STATEMENT_TIMEOUT_MS = 0
    assert statement_timeout_outlasts_the_lock_timeout(None) == []


def test_a_urls_own_options_are_kept_beside_the_timeouts(monkeypatch):
    monkeypatch.setenv(
        "DATABASE_URL",
        "postgres://portal@db.example:5432/portal?sslmode=require&options=-c%20search_path%3Dportal",
    )
    options = _databases()["default"]["OPTIONS"]
    assert options["sslmode"] == "require"
    assert options["options"].startswith("-c search_path=portal ")
    assert "statement_timeout=8000" in options["options"]
