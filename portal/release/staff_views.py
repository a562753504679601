"""The workspace's pages of the fair release: the draws in scope, one draw, its replay.

Seeing a clinic's ballots follows `workspace.permissions.clinic_scope_for`; the seed and
the replay are the regional operator's (`selectors.staff_may_replay`).
"""

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.release import allocation, selectors
from portal.release.models import BallotRequest
from portal.staff.decorators import StaffRequest, staff_required


@require_GET
@staff_required
def ballot_list(request: StaffRequest) -> HttpResponse:
    page = Paginator(selectors.ballots_for_staff(request.user), 30).get_page(
        request.GET.get("page")
    )
    return render(request, "release/staff_list.html", {"page": page})


@require_GET
@staff_required
def ballot_detail(request: StaffRequest, ballot_id: int) -> HttpResponse:
    ballot = selectors.ballot_get_for_staff(request.user, ballot_id)
    draw = getattr(ballot, "draw", None)
    may_replay = selectors.staff_may_replay(request.user)
    replay = None
    if draw is not None and may_replay and request.GET.get("replay") == "1":
        replay = selectors.draw_replay(draw)
    rows = (
        BallotRequest.objects.filter(ballot=ballot)
        .select_related("patient", "appointment")
        .order_by("position", "pk")
    )
    return render(
        request,
        "release/staff_detail.html",
        {
            "ballot": ballot,
            "draw": draw,
            "rows": rows,
            "may_replay": may_replay,
            "replay": replay,
            "inputs_sha256": allocation.inputs_digest(draw.inputs) if draw else "",
        },
    )
