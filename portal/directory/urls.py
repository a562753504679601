from django.urls import path

from portal.directory import views

app_name = "directory"

urlpatterns = [
    path("districts/", views.district_list, name="district_list"),
    path("districts/<int:district_id>/", views.district_detail, name="district_detail"),
    path("clinics/<int:clinic_id>/", views.clinic_detail, name="clinic_detail"),
]
