from django.urls import path

from portal.home_visits import views

app_name = "home_visits"

urlpatterns = [
    path("", views.visit_list, name="list"),
    path("new/", views.visit_new, name="new"),
    path("<int:visit_id>/", views.visit_detail, name="detail"),
    path("<int:visit_id>/cancel/", views.visit_cancel, name="cancel"),
]
