"""Property-based run of the OpenAPI description in-process (WSGI): no answer is a 5xx.

Schemathesis generates valid and invalid requests for every operation in
/fhir/openapi.json, with a real token of a guardian, so the patient-facing paths
are exercised beyond the 401.
"""

import datetime
import secrets

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from oauth2_provider.models import AccessToken
from schemathesis.checks import not_a_server_error

from portal.api.capability import openapi
from portal.api.services import client_register
from tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db

# Werkzeug's test client calls the portal as http://localhost.
AUDIENCES = ["http://localhost/fhir", "http://testserver/fhir"]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's test client does: the WSGI handler's request signals would close
    the connection that holds the test's transaction (PostgreSQL, CONN_MAX_AGE > 0)."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def bearer(guardian, child, settings):
    settings.RATELIMIT_ENABLE = False
    app = client_register(name="schemathesis", redirect_uris=["https://app.example/cb"])
    AppointmentFactory(patient=child, booked_by=guardian)
    SlotFactory()
    return AccessToken.objects.create(
        user=guardian,
        application=app,
        token=secrets.token_urlsafe(30),
        scope="patient/Patient.r patient/Appointment.rs patient/Appointment.cu",
        expires=timezone.now() + datetime.timedelta(hours=1),
        resource=AUDIENCES,
    ).token


def _schema():
    """The served description, loaded without a request (collection has no database)."""
    loaded = schemathesis.openapi.from_dict(openapi(AUDIENCES[0]))
    loaded.app = get_wsgi_application()
    return loaded


schema = _schema()


def test_the_served_description_is_the_one_tested(client):
    served = client.get("/fhir/openapi.json", HTTP_HOST="localhost").json()
    assert served == openapi(AUDIENCES[0])


@schema.parametrize()
@hypothesis_settings(
    max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
def test_no_operation_answers_with_a_server_error(case, bearer):
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {bearer}"}, checks=[not_a_server_error]
    )
    # Every answer comes from the API itself (not the site's HTML 404 for a wrong path).
    content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"][0]
    assert "json" in content_type, (case.path, response.status_code)
