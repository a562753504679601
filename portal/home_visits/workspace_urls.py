from django.urls import path

from portal.home_visits import workspace_views as views

app_name = "home_visits_workspace"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("phone/", views.phone, name="phone"),
    path("<int:visit_id>/accept/", views.accept, name="accept"),
    path("<int:visit_id>/assign/", views.assign, name="assign"),
    path("<int:visit_id>/visited/", views.visited, name="visited"),
    path("<int:visit_id>/cancel/", views.cancel, name="cancel"),
]
