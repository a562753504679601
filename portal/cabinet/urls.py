from django.urls import path

from portal.cabinet import views

app_name = "cabinet"

urlpatterns = [
    path("search/", views.search, name="search"),
]
