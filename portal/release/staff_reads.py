"""The fair release's reads for the staff: the ballots a clinic's staff see and the
regional operator's replay of a draw (docs/fair-release.md). Re-exported by
`release.selectors`, where the views look for them."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from portal.audit.models import AuditAction, AuditEvent
from portal.identity.models import User
from portal.release import allocation
from portal.release.models import Ballot, Draw
from portal.staff.permissions import clinic_scope_for, staff_member_of


def staff_may_replay(user: User | AnonymousUser) -> bool:
    """Replaying a draw is the regional operator's (docs/domain.md, «Roles»)."""
    member = staff_member_of(user)
    return member is not None and member.is_operator


def ballots_for_staff(user: User | AnonymousUser) -> QuerySet[Ballot]:
    return (
        Ballot.objects.filter(clinic__in=clinic_scope_for(user))
        .select_related("clinic", "specialty")
        .order_by("-opens_at", "-pk")
    )


def ballot_get_for_staff(user: User | AnonymousUser, ballot_id: int) -> Ballot:
    ballot = ballots_for_staff(user).filter(pk=ballot_id).first()
    if ballot is None:
        raise Http404
    return ballot


@dataclass(frozen=True)
class Replay:
    matches: bool
    inputs_sha256: str
    recomputed: dict[str, dict[str, Any]]
    differences: list[str]  # request ids whose outcome differs
    record_intact: bool  # the seed and inputs are those the journal noted before booking


def draw_replay(draw: Draw) -> Replay:
    """Recompute the allocation from the stored seed, inputs and refusals; compare it with
    the stored allocation, and the seed and inputs with the digests the append-only journal
    took when the draw began (a changed seed or input would otherwise replay "fine")."""
    recomputed = allocation.replay(draw.seed, draw.inputs, draw.refusals)
    stored = draw.allocation
    differences = sorted(
        (k for k in set(recomputed) | set(stored) if recomputed.get(k) != stored.get(k)),
        key=int,
    )
    digest = allocation.inputs_digest(draw.inputs)
    noted = (
        AuditEvent.objects.filter(action=AuditAction.RELEASE_DRAWN, details__draw=draw.pk)
        .values_list("details", flat=True)
        .first()
    )
    intact = (
        noted is not None
        and noted.get("seed_sha256") == allocation.seed_digest(draw.seed)
        and noted.get("inputs_sha256") == digest
    )
    return Replay(
        matches=intact and not differences and draw.finished_at is not None,
        inputs_sha256=digest,
        recomputed=recomputed,
        differences=differences,
        record_intact=intact,
    )
