"""Ballots, requests and draws are written by `release.services` only: the draw's record
must stay as it was drawn (docs/fair-release.md)."""

from django.contrib import admin

from portal.core.admin import ViewOnlyAdmin
from portal.release.models import Ballot, BallotRequest, Draw


@admin.register(Ballot)
class BallotAdmin(ViewOnlyAdmin[Ballot]):
    list_display = ["clinic", "specialty", "day", "opens_at", "status"]
    list_filter = ["status"]


@admin.register(BallotRequest)
class BallotRequestAdmin(ViewOnlyAdmin[BallotRequest]):
    list_display = ["ballot", "status", "position", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["patient", "made_by", "appointment"]


@admin.register(Draw)
class DrawAdmin(ViewOnlyAdmin[Draw]):
    list_display = ["ballot", "started_at", "finished_at"]
    exclude = ["seed"]
