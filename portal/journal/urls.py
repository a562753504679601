from django.urls import path

from portal.journal import views

app_name = "journal"

urlpatterns = [
    path("cabinet/journal/<int:patient_id>/", views.journal, name="page"),
]
