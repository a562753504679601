from django.urls import path

from portal.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accessibility/", views.accessibility_settings, name="accessibility"),
]
