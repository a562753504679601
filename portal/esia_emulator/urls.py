from django.urls import path

from portal.esia_emulator import views

app_name = "esia_emulator"

# The paths of real ESIA (docs/esia.md §6), so that only the base URL differs.
urlpatterns = [
    path("", views.index, name="index"),
    path("aas/oauth2/v2/ac", views.authorize, name="authorize"),
    path("aas/oauth2/v3/te", views.token, name="token"),
    path("rs/prns/<str:oid>", views.person, name="person"),
    path("rs/prns/<str:oid>/<str:collection>", views.person_collection, name="person_collection"),
    path("rs/prns/<str:oid>/kids/<str:kid_id>/docs", views.kid_documents, name="kid_documents"),
    path("idp/ext/Logout", views.logout, name="logout"),
    path("dev/outbox/", views.dev_outbox, name="dev_outbox"),
]
