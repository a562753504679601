from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "portal.api"
    label = "api"
    verbose_name = "FHIR API"

    def ready(self) -> None:
        from corsheaders.signals import check_request_enabled

        from portal.api.cors import origin_allowed
        from portal.api.views import unavailable_response

        check_request_enabled.connect(origin_allowed, dispatch_uid="api_cors_origins")
        from portal.core.outage import outage_responder_register

        # A database outage outside the views (middleware, handler500) answers FHIR too.
        # "/fhir/" as mounted in portal/urls.py.
        outage_responder_register("/fhir/", unavailable_response)
