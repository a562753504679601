from django.urls import path

from portal.referrals import views, workspace_views

app_name = "referrals"

urlpatterns = [
    path("referrals/", views.referral_list, name="list"),
    path("referrals/<int:referral_id>/book/", views.referral_book, name="book"),
    path("workspace/referrals/", workspace_views.clinic_list, name="clinic_list"),
    path("workspace/referrals/new/", workspace_views.issue, name="issue"),
    path(
        "workspace/referrals/<int:referral_id>/cancel/",
        workspace_views.cancel,
        name="cancel",
    ),
]
