from django.urls import path

from portal.identity import views

app_name = "identity"

urlpatterns = [
    path("cabinet/", views.cabinet, name="cabinet"),
    path("login/esia/", views.esia_login, name="esia_login"),
    path("login/esia/callback/", views.esia_callback, name="esia_callback"),
    path("login/refused/<slug:reason>/", views.login_refused, name="login_refused"),
    path("logout/", views.logout, name="logout"),
]
