from django.urls import path, re_path

from portal.api import views

app_name = "fhir"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("openapi.json", views.openapi, name="openapi"),
    path(".well-known/smart-configuration", views.smart_configuration, name="smart"),
    re_path(r"^(?P<kind>[A-Za-z]{1,40})/?$", views.type_endpoint, name="type"),
    re_path(
        r"^(?P<kind>[A-Za-z]{1,40})/(?P<rid>[A-Za-z0-9\-.]{1,64})/?$",
        views.instance_endpoint,
        name="instance",
    ),
]
