from django.urls import path

from portal.waitlist import views

app_name = "waitlist"

urlpatterns = [
    path("waitlist/", views.entry_list, name="entry_list"),
    path("waitlist/join/", views.entry_join_view, name="entry_join"),
    path("waitlist/<int:entry_id>/leave/", views.entry_leave_view, name="entry_leave"),
    path("offers/", views.offer_list, name="offer_list"),
    path("offers/<int:offer_id>/take/", views.offer_take_view, name="offer_take"),
    path("offers/<int:offer_id>/decline/", views.offer_decline_view, name="offer_decline"),
]
