from django.urls import path, re_path

from portal.api import views

app_name = "fhir"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("openapi.json", views.openapi, name="openapi"),
    path(".well-known/smart-configuration", views.smart_configuration, name="smart"),
    # Any path under /fhir/ answers FHIR JSON (an OperationOutcome), never the site's HTML.
    re_path(r"^(?P<kind>[^/]+)/?$", views.type_endpoint, name="type"),
    re_path(r"^(?P<kind>[^/]+)/(?P<rid>[^/]+)/?$", views.instance_endpoint, name="instance"),
    re_path(r"^.*$", views.not_found, name="not_found"),
]
