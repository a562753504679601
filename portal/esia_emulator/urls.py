from django.urls import path

from portal.esia_emulator import views

# The portal's error pages link to portal URLs that do not exist here.
handler404 = "portal.esia_emulator.views.not_found"
handler500 = "portal.esia_emulator.views.server_error"

# The paths of real ESIA (reference/esia.md), so that only the base URL differs.
urlpatterns = [
    path("", views.index, name="esia_emulator_index"),
    path("aas/oauth2/v2/ac", views.authorize, name="esia_emulator_authorize"),
    path("aas/oauth2/v3/te", views.token, name="esia_emulator_token"),
    path("rs/prns/<str:oid>", views.person, name="esia_emulator_person"),
    path("rs/prns/<str:oid>/<str:collection>", views.person_collection),
    path("rs/prns/<str:oid>/kids/<str:kid_id>/docs", views.kid_documents),
    path("idp/ext/Logout", views.logout, name="esia_emulator_logout"),
    path("dev/outbox/", views.dev_outbox, name="esia_emulator_dev_outbox"),
]
