from django.urls import path

from portal.patients import views

app_name = "patients"

urlpatterns = [
    path("cabinet/personal/", views.personal, name="personal"),
    path("cabinet/relatives/add/", views.relative_add_view, name="relative_add"),
    path(
        "cabinet/relatives/add-from-esia/", views.relative_add_from_esia, name="relative_add_esia"
    ),
    path(
        "cabinet/relatives/<int:guardianship_id>/remove/",
        views.relative_remove_view,
        name="relative_remove",
    ),
    path(
        "cabinet/guardians/<int:guardianship_id>/approve/",
        views.guardianship_decide_view,
        {"decision": "approve"},
        name="guardianship_approve",
    ),
    path(
        "cabinet/guardians/<int:guardianship_id>/revoke/",
        views.guardianship_decide_view,
        {"decision": "revoke"},
        name="guardianship_revoke",
    ),
    path("cabinet/acting/", views.acting_switch_view, name="acting_switch"),
]
