from django.urls import path

from portal.scheduling import move_views, views

app_name = "scheduling"

urlpatterns = [
    path("booking/", views.booking_start, name="booking_start"),
    path("booking/nearest/", views.booking_nearest, name="booking_nearest"),
    path("booking/district/<int:district_id>/", views.booking_district, name="booking_district"),
    path("booking/clinic/<int:clinic_id>/", views.booking_clinic, name="booking_clinic"),
    path(
        "booking/clinic/<int:clinic_id>/specialty/<int:specialty_id>/",
        views.booking_doctors,
        name="booking_doctors",
    ),
    path("booking/doctor/<int:doctor_id>/", views.booking_days, name="booking_days"),
    path("booking/doctor/<int:doctor_id>/<str:day>/", views.booking_times, name="booking_times"),
    path("booking/slot/<int:slot_id>/", views.booking_confirm, name="booking_confirm"),
    path("appointments/", views.appointment_list, name="appointment_list"),
    path("appointments/<int:appointment_id>/", views.appointment_ticket, name="appointment_ticket"),
    path(
        "appointments/<int:appointment_id>/cancel/",
        views.appointment_cancel_view,
        name="appointment_cancel",
    ),
    path(
        "appointments/<int:appointment_id>/reschedule/",
        views.appointment_reschedule_view,
        name="appointment_reschedule",
    ),
    path(
        "appointments/<int:appointment_id>/reschedule/doctor/<int:doctor_id>/",
        move_views.move_days,
        name="appointment_move_days",
    ),
    path(
        "appointments/<int:appointment_id>/reschedule/doctor/<int:doctor_id>/<str:day>/",
        move_views.move_times,
        name="appointment_move_times",
    ),
    path(
        "appointments/<int:appointment_id>/reschedule/<int:slot_id>/",
        views.appointment_reschedule_confirm,
        name="appointment_reschedule_confirm",
    ),
    path(
        "appointments/<int:appointment_id>/calendar.ics",
        views.appointment_ics,
        name="appointment_ics",
    ),
]
