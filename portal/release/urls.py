from django.urls import path

from portal.release import staff_views, views

app_name = "release"

urlpatterns = [
    path("release/", views.home, name="home"),
    path("release/ballot/<int:ballot_id>/", views.request_new, name="request_new"),
    path("release/requests/<int:request_id>/", views.request_detail, name="request_detail"),
    path(
        "release/requests/<int:request_id>/withdraw/",
        views.request_withdraw,
        name="request_withdraw",
    ),
    path("workspace/release/", staff_views.ballot_list, name="staff_list"),
    path("workspace/release/<int:ballot_id>/", staff_views.ballot_detail, name="staff_detail"),
]
