from django.contrib import admin
from django.http import HttpRequest

from portal.release.models import Ballot, BallotRequest, Draw


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]  # one base for three models
    """Ballots, requests and draws are written by `release.services` only: the draw's
    record must stay as it was drawn (docs/fair-release.md)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Ballot)
class BallotAdmin(ReadOnly):
    list_display = ["clinic", "specialty", "day", "opens_at", "status"]
    list_filter = ["status"]


@admin.register(BallotRequest)
class BallotRequestAdmin(ReadOnly):
    list_display = ["ballot", "status", "position", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["patient", "made_by", "appointment"]


@admin.register(Draw)
class DrawAdmin(ReadOnly):
    list_display = ["ballot", "started_at", "finished_at"]
    exclude = ["seed"]
