"""A database that goes away mid-request gives a Russian "try again" page, not a trace."""

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
