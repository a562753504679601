from django.contrib import admin
from django.urls import include, path

from portal.env import env_str

handler400 = "portal.core.views.bad_request"
handler403 = "portal.core.views.permission_denied"
handler404 = "portal.core.views.page_not_found"
handler500 = "portal.core.views.server_error"

# The admin lives at a configurable, non-default path so scanners do not find it.
ADMIN_PATH = env_str("ADMIN_PATH", "staff-admin/").strip("/") + "/"

urlpatterns = [
    path("", include("portal.core.urls")),
    path("", include("portal.directory.urls")),
    path("", include("portal.identity.urls")),
    path("", include("portal.patients.urls")),
    path("", include("portal.scheduling.urls")),
    path("fhir/", include("portal.api.urls_fhir")),
    path("oauth/", include("portal.api.urls_oauth")),
    path(ADMIN_PATH, admin.site.urls),
]
