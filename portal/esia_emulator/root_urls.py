"""The emulator's own origin (portal.esia_emulator.settings): only its namespaced URLs."""

from django.urls import include, path

# The portal's error pages link to portal URLs that do not exist here.
handler404 = "portal.esia_emulator.views.not_found"
handler500 = "portal.esia_emulator.views.server_error"

urlpatterns = [path("", include("portal.esia_emulator.urls"))]
