from django.urls import path

from portal.workspace import (
    auth_views,
    card_views,
    dashboard_views,
    directory_views,
    guardianship_views,
    phone_views,
    schedule_views,
    views,
    window_views,
)

app_name = "workspace"

urlpatterns = [
    path("workspace/login/", auth_views.login_view, name="login"),
    path("workspace/login/code/", auth_views.login_code_view, name="login_code"),
    path("workspace/logout/", auth_views.logout_view, name="logout"),
    path("workspace/", views.home, name="home"),
    path("workspace/day/", views.day_list, name="day_list"),
    path("workspace/absences/", views.absence_list, name="absence_list"),
    path("workspace/absences/new/", views.absence_new, name="absence_new"),
    path("workspace/dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("workspace/dashboard.csv", dashboard_views.dashboard_csv, name="dashboard_csv"),
    path(
        "workspace/directory/<slug:section>/",
        directory_views.directory_list,
        name="directory_list",
    ),
    path(
        "workspace/directory/<slug:section>/new/",
        directory_views.directory_edit,
        name="directory_new",
    ),
    path(
        "workspace/directory/<slug:section>/<int:pk>/",
        directory_views.directory_edit,
        name="directory_edit",
    ),
    path("workspace/phone/", phone_views.phone_search, name="phone_search"),
    path("workspace/phone/<int:person_id>/", phone_views.phone_person, name="phone_person"),
    path("workspace/phone/<int:person_id>/book/", phone_views.phone_book, name="phone_book"),
    path("workspace/schedules/", schedule_views.schedule_index, name="schedule_index"),
    path(
        "workspace/schedules/<int:doctor_id>/",
        schedule_views.schedule_doctor,
        name="schedule_doctor",
    ),
    path(
        "workspace/schedules/<int:doctor_id>/rules/new/",
        schedule_views.schedule_rule_edit,
        name="schedule_rule_new",
    ),
    path(
        "workspace/schedules/<int:doctor_id>/rules/<int:rule_id>/",
        schedule_views.schedule_rule_edit,
        name="schedule_rule_edit",
    ),
    path(
        "workspace/guardianships/",
        guardianship_views.guardianship_list,
        name="guardianship_list",
    ),
    path(
        "workspace/guardianships/<int:guardianship_id>/confirm/",
        guardianship_views.guardianship_confirm_view,
        name="guardianship_confirm",
    ),
    path(
        "workspace/appointments/<int:appointment_id>/attendance/",
        views.appointment_attendance,
        name="appointment_attendance",
    ),
    path("workspace/patients/", card_views.patient_search, name="patient_search"),
    path("workspace/patients/<int:patient_id>/", card_views.patient_card, name="patient_card"),
    path(
        "workspace/patients/<int:patient_id>/book/",
        card_views.patient_book,
        name="patient_book",
    ),
    path(
        "workspace/appointments/<int:appointment_id>/cancel/",
        card_views.appointment_cancel_for_patient,
        name="appointment_cancel",
    ),
    path(
        "workspace/appointments/<int:appointment_id>/move/",
        card_views.appointment_move,
        name="appointment_move",
    ),
    path("workspace/window/", window_views.window, name="window"),
    # The address a ticket's QR code holds (scheduling.documents.ticket_payload).
    path("workspace/ticket/<str:code>/", window_views.ticket, name="ticket"),
    path(
        "workspace/appointments/<int:appointment_id>/",
        window_views.appointment_detail,
        name="appointment_detail",
    ),
    path(
        "workspace/appointments/<int:appointment_id>/arrived/",
        window_views.appointment_arrived,
        name="appointment_arrived",
    ),
]
