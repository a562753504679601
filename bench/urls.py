"""The portal's urls plus the framework floor; used only by bench.settings."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def floor(request: HttpRequest) -> HttpResponse:
    """The framework floor: the full middleware stack, no database, no template."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("__bench__/floor", floor, name="bench_floor"),
    path("", include("portal.urls")),
]
