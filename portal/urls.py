from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from portal.api import views as api_views

handler400 = "portal.core.views.bad_request"
handler403 = "portal.core.views.permission_denied"
handler404 = "portal.core.views.page_not_found"
handler500 = "portal.core.views.server_error"

urlpatterns = [
    # Every app's names are namespaced by its app_name: {% url 'scheduling:booking_start' %}.
    path("", include("portal.core.urls")),
    path("", include("portal.directory.urls")),
    path("", include("portal.identity.urls")),
    path("", include("portal.patients.urls")),
    path("", include("portal.journal.urls")),
    path("", include("portal.scheduling.urls")),
    path("", include("portal.referrals.urls")),
    path("", include("portal.workspace.urls")),
    path("", include("portal.notifications.urls")),
    path("", include("portal.release.urls")),
    path("", include("portal.waitlist.urls")),
    path("", include("portal.cabinet.urls")),
    path("home-visits/", include("portal.home_visits.urls")),
    path("workspace/home-visits/", include("portal.home_visits.workspace_urls")),
    path("fhir/", include("portal.api.urls_fhir")),
    path("oauth/", include("portal.api.urls_oauth")),
    # RFC 8414 places the authorization server's metadata at the origin's root.
    path(
        ".well-known/oauth-authorization-server",
        api_views.authorization_server_metadata,
        name="oauth_metadata",
    ),
    path(settings.ADMIN_PATH, admin.site.urls),
]
