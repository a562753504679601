from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "portal.api"
    label = "api"
    verbose_name = "FHIR API"

    def ready(self) -> None:
        from portal.api.views import unavailable_response
        from portal.core.outage import outage_responder_register

        # A database outage outside the views (middleware, handler500) answers FHIR too.
        # "/fhir/" as mounted in portal/urls.py.
        outage_responder_register("/fhir/", unavailable_response)
