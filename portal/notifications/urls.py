from django.urls import path

from portal.notifications import views

app_name = "notifications"

urlpatterns = [
    path("cabinet/notifications/", views.message_list, name="list"),
    path("cabinet/notifications/settings/", views.preferences, name="preferences"),
]
