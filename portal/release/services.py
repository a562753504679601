"""Writes of «Запись при открытии дня» (docs/fair-release.md; locking in docs/concurrency.md).

Booking state is written by the booking service alone: the draw keeps the day's slots
with `scheduling.services.slots_reserve_for_draw`, books the winners with
`appointments_book_for_draw` (every booking rule, under the booking's locks) and lets the
rest go with `slots_release_from_draw`. This module writes ballots, requests and draws.
"""

import datetime
import logging
from dataclasses import dataclass
from functools import partial

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from portal.audit.models import AuditAction
from portal.audit.services import audit_record
from portal.core.locking import is_lock_timeout, lock_timeout_set
from portal.directory.models import Doctor
from portal.identity.models import User
from portal.patients.locks import patient_lock_fresh
from portal.patients.models import Patient
from portal.patients.selectors import patient_seen_in_full_by
from portal.release import draws
from portal.release.draws import ballot_slot_ids
from portal.release.errors import ReleaseRefused
from portal.release.models import Ballot, BallotRequest, Times
from portal.release.selectors import (
    ballot_day,
    ballot_doctors,
    ballot_get_now,
    ballot_slots,
    request_pending_of,
)
from portal.release.tasks import draw_due
from portal.scheduling import rules
from portal.scheduling import selectors as scheduling_selectors
from portal.scheduling.services import (
    slots_release_from_draw,
    slots_reserve_for_draw,
)

logger = logging.getLogger(__name__)


# --- opening a ballot ----------------------------------------------------------------


def ballot_open(*, clinic_id: int, specialty_id: int, day: datetime.date) -> Ballot:
    """A ballot for the day's not-yet-open slots of one clinic and specialty, with those
    slots kept for its draw from now on (they were invisible anyway until they open).

    Idempotent: the same place and day returns the existing ballot. The draw is asked
    for at the opening moment (the task queue) and by `release_draws` as a fallback.
    """
    now = timezone.now()
    with transaction.atomic():
        ballot = Ballot.objects.filter(
            clinic_id=clinic_id, specialty_id=specialty_id, day=day
        ).first()
        if ballot is None:
            slots = ballot_slots(clinic_id, specialty_id, day).filter(opens_at__gt=now)
            first = slots.order_by("opens_at").values_list("opens_at", flat=True).first()
            if first is None:
                raise ReleaseRefused("release_no_slots")
            ballot = Ballot.objects.create(
                clinic_id=clinic_id, specialty_id=specialty_id, day=day, opens_at=first
            )
        if ballot.status == Ballot.Status.COLLECTING and draws.PROTECT_RESERVATION:
            slots_reserve_for_draw(slot_ids=ballot_slot_ids(ballot))
        transaction.on_commit(partial(_ask_for_draw, ballot.pk, ballot.opens_at))
    return ballot


def _ask_for_draw(ballot_id: int, at: datetime.datetime) -> None:
    try:
        draw_due.using(run_after=at).enqueue(ballot_id)
    except Exception:  # the queue is a convenience; `release_draws` is the guarantee
        logger.exception("could not enqueue the draw of ballot %s", ballot_id)


# --- requests ------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestResult:
    request: BallotRequest
    created: bool  # False: this patient's request to this ballot existed already


def _request_refusal(
    patient: Patient, actor: User, ballot: Ballot, now: datetime.datetime
) -> str | None:
    """The booking's own rules for this place (`rules.booking_refusal`), then the ballot's."""
    if ballot.status != Ballot.Status.COLLECTING or ballot.opens_at <= now:
        return "release_closed"
    active = scheduling_selectors.appointments_list_active(patient, now)
    return rules.booking_refusal(
        patient, actor.pk, clinic=ballot.clinic, specialty=ballot.specialty, active=active, now=now
    )


@transaction.atomic(durable=True)
def _request_make(
    *,
    actor: User,
    patient: Patient,
    ballot_id: int,
    doctor_ids: list[int],
    times: str,
    ip: str | None,
) -> RequestResult:
    # The patient row first, as every booking does: one patient's requests are serialised.
    # As the booking's, one narrow statement that also sets the lock timeout; the columns
    # the rules decide on are read again under the lock.
    patient = patient_lock_fresh(patient, timeout_first=True)
    ballot = ballot_get_now(ballot_id)
    if ballot is None:  # deleted since the page read it: as good as closed
        raise ReleaseRefused("release_closed")
    pending = request_pending_of(patient.pk, ballot.specialty_id)
    if pending is not None and pending.ballot_id == ballot.pk:
        if pending.made_by_id == actor.pk or patient_seen_in_full_by(actor, patient.pk):
            return RequestResult(pending, created=False)  # a repeat changes nothing
        # Another guardian's request, which this one may not see (docs/security.md).
        raise ReleaseRefused("release_one_per_specialty")
    now = timezone.now()
    if code := _request_refusal(patient, actor, ballot, now):
        raise ReleaseRefused(code)
    if pending is not None:
        raise ReleaseRefused("release_one_per_specialty")
    # «Any doctor» (no doctor chosen) needs no read of the ballot's doctors.
    if doctor_ids and not set(doctor_ids) <= set(
        ballot_doctors(ballot).values_list("pk", flat=True)
    ):
        raise ReleaseRefused("release_bad_doctor")
    if times not in Times.values:
        raise ReleaseRefused("release_bad_times")
    if times not in ballot_day(ballot).parts:
        raise ReleaseRefused("release_times_absent")
    request = BallotRequest.objects.create(
        ballot=ballot, patient=patient, specialty_id=ballot.specialty_id, made_by=actor, times=times
    )
    if doctor_ids:  # a new request has none yet: no read of the current set (`set` reads)
        request.doctors.add(*sorted(set(doctor_ids)))
    audit_record(
        AuditAction.RELEASE_REQUESTED,
        actor=actor,
        ip=ip,
        patient=patient,
        request=request.pk,
        ballot=ballot.pk,
        day=ballot.day.isoformat(),
        doctors=sorted(set(doctor_ids)),
        times=times,
    )
    return RequestResult(request, created=True)


def request_make(
    *,
    actor: User,
    patient: Patient,
    ballot: Ballot,
    doctor_ids: list[int],
    times: str,
    ip: str | None = None,
) -> RequestResult:
    """Ask for a time of ``ballot``'s day for ``patient`` (whom the caller checked ``actor``
    may act for): any of ``doctor_ids`` (empty: any doctor), at ``times``.

    One waiting request per patient and specialty; asking again for the same ballot
    returns the first request. Raises ReleaseRefused; never a database error.
    """
    try:
        return _request_make(
            actor=actor,
            patient=patient,
            ballot_id=ballot.pk,
            doctor_ids=doctor_ids,
            times=times,
            ip=ip,
        )
    except IntegrityError as exc:
        # A twin request of the same patient won the race past the lock-free read.
        raise ReleaseRefused("release_one_per_specialty") from exc
    except OperationalError as exc:
        if not is_lock_timeout(exc):
            raise
        raise ReleaseRefused("busy") from exc


def request_withdraw(*, actor: User, request: BallotRequest, ip: str | None = None) -> None:
    """Withdraw a waiting request (fetched with `request_get_for_user`) before the draw."""
    with transaction.atomic():
        lock_timeout_set()
        ballot = Ballot.objects.select_for_update().get(pk=request.ballot_id)
        if ballot.status != Ballot.Status.COLLECTING:
            raise ReleaseRefused("release_not_pending")
        done = BallotRequest.objects.filter(
            pk=request.pk, status=BallotRequest.Status.PENDING
        ).update(status=BallotRequest.Status.WITHDRAWN, decided_at=timezone.now())
        if done != 1:
            raise ReleaseRefused("release_not_pending")
        audit_record(
            AuditAction.RELEASE_WITHDRAWN,
            actor=actor,
            ip=ip,
            patient=request.patient,
            request=request.pk,
            ballot=ballot.pk,
        )


def ballot_cancel(*, ballot: Ballot, actor: User) -> None:
    """Call off a ballot before its draw: its slots open first-come at their opening."""
    with transaction.atomic():
        done = Ballot.objects.filter(pk=ballot.pk, status=Ballot.Status.COLLECTING).update(
            status=Ballot.Status.CANCELLED
        )
        if done != 1:
            raise ReleaseRefused("release_closed")
        BallotRequest.objects.filter(ballot=ballot, status=BallotRequest.Status.PENDING).update(
            status=BallotRequest.Status.WITHDRAWN, decided_at=timezone.now()
        )
        slots_release_from_draw(slot_ids=ballot_slot_ids(ballot))


def doctors_of(ballot: Ballot) -> list[Doctor]:
    return list(ballot_doctors(ballot))
