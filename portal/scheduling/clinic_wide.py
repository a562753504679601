"""Clinic-wide changes: a doctor's absence and a new weekly schedule, each cancelling
every appointment on a time the doctor no longer works (docs/workspace.md).

Each is ONE durable transaction that completes whole or leaves no trace, retried from
the start after a deadlock or a lock timeout (`core.locking.retried_whole`); the
cancellations are the clinic's own (`cancellation.clinic_cancellation`).
"""

import datetime
from collections.abc import Collection
from dataclasses import dataclass
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from portal.audit.models import AuditAction
from portal.audit.services import audit_record
from portal.core.locking import lock_timeout_set, retried_whole
from portal.directory.models import Doctor
from portal.identity.models import User
from portal.patients.locks import patient_lock, patients_lock_nowait
from portal.patients.models import Patient
from portal.scheduling import selectors
from portal.scheduling.cancellation import cancel_locked, clinic_cancellation
from portal.scheduling.errors import BookingRefused, busy
from portal.scheduling.events import announce_after_commit, slots_opened
from portal.scheduling.models import Absence, Appointment, ScheduleRule, Slot
from portal.scheduling.schedule_changes import PROBLEMS as SCHEDULE_PROBLEMS
from portal.scheduling.schedule_changes import (
    ScheduleDiff,
    rule_problems,
    rules_overlap,
    schedule_diff,
)
from portal.scheduling.slot_generation import _insert_slots, slots_block_absence
from portal.staff.permissions import staff_may_manage_clinic

# --- absences (the clinic workspace, docs/workspace.md) ---------------------------------
# A doctor's absence cancels every booked appointment in its dates and blocks the free
# slots in ONE durable transaction: it completes whole or leaves no trace. Lock order as
# everywhere (docs/concurrency.md): first the patients of the booked appointments
# (sorted by id), then the doctor's slots of the dates (sorted by time). A patient who
# booked between the two steps is locked late, out of order; if that collides with a
# booking, PostgreSQL's deadlock detector or the lock timeout aborts the absence and it
# is retried from the start (ABSENCE_ATTEMPTS times), never left half-done.

ABSENCE_ATTEMPTS = 3


@dataclass(frozen=True)
class AbsenceResult:
    absence: Absence
    cancelled: list[Appointment]
    blocked: int  # free slots that are now blocked


def _absence_bounds(
    starts_on: datetime.date, ends_on: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    tz = ZoneInfo(settings.TIME_ZONE)
    since = datetime.datetime.combine(starts_on, datetime.time.min, tzinfo=tz)
    until = datetime.datetime.combine(
        ends_on + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    return since, until


def _booked_in(
    doctor_id: int, since: datetime.datetime, until: datetime.datetime
) -> "models.QuerySet[Appointment]":
    return Appointment.objects.filter(
        slot__doctor_id=doctor_id,
        starts_at__gte=max(since, timezone.now()),
        starts_at__lt=until,
        status=Appointment.Status.BOOKED,
    )


@transaction.atomic(durable=True)
def _record_absence(
    *,
    actor: User,
    doctor_id: int,
    kind: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    reason: str,
    ip: str | None,
) -> AbsenceResult:
    lock_timeout_set()
    since, until = _absence_bounds(starts_on, ends_on)
    patients: dict[int, Patient] = {}

    def lock_patients_of_booked() -> None:
        wanted = sorted(
            set(_booked_in(doctor_id, since, until).values_list("patient_id", flat=True))
        )
        for patient_id in wanted:
            if patient_id not in patients:
                patients[patient_id] = patient_lock(patient_id)

    lock_patients_of_booked()
    # Lock 2: every slot of the dates, so no booking or cancellation changes them now.
    list(
        Slot.objects.select_for_update(of=("self",))
        .filter(doctor_id=doctor_id, starts_at__gte=since, starts_at__lt=until)
        .order_by("starts_at")
        .values_list("pk", flat=True)
    )
    lock_patients_of_booked()  # whoever booked between the two steps
    blocked = slots_block_absence(doctor_id, starts_on, ends_on, ZoneInfo(settings.TIME_ZONE))
    absence = Absence.objects.create(
        doctor_id=doctor_id, kind=kind, starts_on=starts_on, ends_on=ends_on
    )
    how = clinic_cancellation(reason)
    cancelled = [
        cancel_locked(
            actor=actor,
            current=current,
            patient=patients[current.patient_id],
            how=how,
            ip=ip,
            reason=reason,
            slot_freed=False,
            absence=absence.pk,
        )
        for current in _booked_in(doctor_id, since, until).select_related("slot__doctor")
    ]
    return AbsenceResult(absence=absence, cancelled=cancelled, blocked=blocked)


def absence_record(
    *,
    actor: User,
    doctor: Doctor,
    kind: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    reason: str,
    ip: str | None = None,
) -> AbsenceResult:
    """Record a doctor's absence: block its free slots and cancel, by the clinic with
    ``reason``, every appointment booked in it; each patient is told after the commit.

    The caller fetched ``doctor`` inside ``actor``'s scope; the clinic check runs again
    for every appointment under the locks. Refusals: `clinic_cancel_no_reason`,
    `clinic_cancel_foreign`, `busy` (still locked out after the retries).
    """
    reason = clinic_reason(actor, doctor, reason)
    return retried_whole(
        partial(
            _record_absence,
            actor=actor,
            doctor_id=doctor.pk,
            kind=kind,
            starts_on=starts_on,
            ends_on=ends_on,
            reason=reason,
            ip=ip,
        ),
        attempts=ABSENCE_ATTEMPTS,
        what=f"absence of doctor {doctor.pk}",
        refusal=busy,
    )


def clinic_reason(actor: User, doctor: Doctor, reason: str) -> str:
    """What every clinic-wide writer (an absence, a schedule publish) asks first: a reason
    the patients will read, and a clinic the actor may manage."""
    reason = reason.strip()
    if not reason:
        raise BookingRefused("clinic_cancel_no_reason")
    if not actor.is_superuser and not staff_may_manage_clinic(actor, doctor.clinic_id):
        raise BookingRefused("clinic_cancel_foreign")
    return reason


# --- schedule changes (the clinic workspace, docs/workspace.md «Schedules») --------------
# Publishing a weekly rule rewrites one doctor's future slots in ONE durable transaction
# (it completes whole or leaves no trace). Lock order (docs/concurrency.md): the doctor's
# schedule rules (two publishes for one doctor queue here; bookings never take them), the
# patients whose appointments the change cancels (sorted by id), then the doctor's future
# slots (sorted by time). The diff is computed again under the slot locks; a patient who
# booked a removed slot in between is locked late with NOWAIT, so the publish, never the
# patient, backs off: it rolls back and starts again (SCHEDULE_ATTEMPTS), then `busy`.

SCHEDULE_ATTEMPTS = 3


@dataclass(frozen=True)
class RuleDraft:
    """A weekly rule's values as the clerk typed them (plain values, no model)."""

    weekdays: str
    start_time: datetime.time
    end_time: datetime.time
    break_start: datetime.time | None
    break_end: datetime.time | None
    slot_minutes: int
    days_ahead: int
    opens_at: datetime.time
    valid_from: datetime.date | None
    valid_until: datetime.date | None

    @classmethod
    def of(cls, rule: ScheduleRule, **changes: object) -> "RuleDraft":
        values = {name: getattr(rule, name) for name in cls.__dataclass_fields__}
        return cls(**{**values, **changes})


@dataclass(frozen=True)
class SchedulePublished:
    rule: ScheduleRule
    diff: ScheduleDiff
    cancelled: list[Appointment]


def schedule_rules_after(
    current: list[ScheduleRule], rule_id: int | None, draft: RuleDraft
) -> list[RuleDraft]:
    """The doctor's whole set of rules once ``draft`` replaces ``rule_id`` (or is added)."""
    others = [RuleDraft.of(rule) for rule in current if rule.pk != rule_id]
    return [*others, draft]


def schedule_draft_problems(
    current: list[ScheduleRule], rule_id: int | None, draft: RuleDraft, today: datetime.date
) -> dict[str, str]:
    """Every reason not to publish ``draft``: its own fields, then an overlap with
    another rule of the doctor. The form shows these; `schedule_publish` refuses."""
    problems = rule_problems(draft, today)
    others = [RuleDraft.of(rule) for rule in current if rule.pk != rule_id]
    if not problems and rules_overlap(draft, others):
        problems["weekdays"] = str(SCHEDULE_PROBLEMS["overlap"])
    return problems


def schedule_preview(
    *, doctor_id: int, rule_id: int | None, draft: RuleDraft, now: datetime.datetime | None = None
) -> ScheduleDiff:
    """What publishing ``draft`` would do now (read-only; the same diff the publish makes)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    current = selectors.schedule_rules_list(doctor_id)
    existing, absences = selectors.schedule_inputs(doctor_id, now, today)
    return schedule_diff(
        doctor_id=doctor_id,
        rules=schedule_rules_after(current, rule_id, draft),
        existing=existing,
        absences=absences,
        today=today,
        now=now,
    )


@transaction.atomic(durable=True)
def _publish_schedule(
    *,
    actor: User,
    doctor_id: int,
    rule_id: int | None,
    draft: RuleDraft,
    reason: str,
    expected: Collection[int] | None,
    ip: str | None,
) -> SchedulePublished:
    lock_timeout_set()
    # Lock 0: the doctor's rules, so two publishes for one doctor run one after the other.
    current = list(
        ScheduleRule.objects.select_for_update(of=("self",))
        .filter(doctor_id=doctor_id)
        .order_by("pk")
    )
    if rule_id is not None and rule_id not in {rule.pk for rule in current}:
        raise BookingRefused("schedule_rule_unknown")
    today = timezone.localdate()
    if schedule_draft_problems(current, rule_id, draft, today):
        raise BookingRefused("schedule_invalid")
    rules_after = schedule_rules_after(current, rule_id, draft)

    def diff_now() -> ScheduleDiff:
        now = timezone.now()
        existing, absences = selectors.schedule_inputs(doctor_id, now, today)
        return schedule_diff(
            doctor_id=doctor_id,
            rules=rules_after,
            existing=existing,
            absences=absences,
            today=today,
            now=now,
        )

    def patients_on(slot_ids: list[int]) -> list[int]:
        return list(
            Appointment.objects.filter(
                slot_id__in=slot_ids, status=Appointment.Status.BOOKED
            ).values_list("patient_id", flat=True)
        )

    patients: dict[int, Patient] = {}
    # Lock 1: the patients the change will cancel, as far as a lock-free look tells.
    for patient_id in sorted(set(patients_on(diff_now().cancel))):
        patients[patient_id] = patient_lock(patient_id)
    # Lock 2: every future slot of the doctor; from now on nobody books or cancels them.
    list(
        Slot.objects.select_for_update(of=("self",))
        .filter(doctor_id=doctor_id, starts_at__gt=timezone.now())
        .order_by("starts_at")
        .values_list("pk", flat=True)
    )
    diff = diff_now()  # decided again under the locks
    to_cancel = list(
        Appointment.objects.filter(slot_id__in=diff.cancel, status=Appointment.Status.BOOKED)
        .select_related("slot__doctor")
        .order_by("starts_at")
    )
    if expected is not None and {a.pk for a in to_cancel} - set(expected):
        # Someone booked a time the clerk saw as free: show the change again, never
        # cancel an appointment that was not on the confirmed list.
        raise BookingRefused("schedule_stale")
    patients_lock_nowait([a.patient_id for a in to_cancel], patients)

    if rule_id is None:
        rule = ScheduleRule(doctor_id=doctor_id)
    else:
        rule = next(rule for rule in current if rule.pk == rule_id)
    for name in RuleDraft.__dataclass_fields__:
        setattr(rule, name, getattr(draft, name))
    rule.save()

    blocked = Slot.objects.filter(pk__in=diff.block, status=Slot.Status.FREE).update(
        status=Slot.Status.BLOCKED
    )
    for retimed in diff.retime:
        # Never a booked row (the diff reuses free and blocked ones only).
        Slot.objects.filter(pk=retimed.pk).exclude(status=Slot.Status.BOOKED).update(
            ends_at=retimed.ends_at, status=retimed.status, opens_at=retimed.opens_at
        )
    how = clinic_cancellation(reason)
    cancelled = [
        cancel_locked(
            actor=actor,
            current=current_appointment,
            patient=patients[current_appointment.patient_id],
            how=how,
            ip=ip,
            reason=reason,
            slot_freed=False,
            schedule_rule=rule.pk,
        )
        for current_appointment in to_cancel
    ]
    if diff.create:
        _insert_slots(diff.create)
    reused = [r.pk for r in diff.retime if r.status == Slot.Status.FREE]
    starts = [row[1] for row in diff.create if row[3] == Slot.Status.FREE]
    transaction.on_commit(partial(_announce_new_times, doctor_id, reused, starts), robust=True)
    audit_record(
        AuditAction.DIRECTORY_CHANGED,
        actor=actor,
        ip=ip,
        model="schedulerule",
        object=rule.pk,
        created=rule_id is None,
        doctor=doctor_id,
        slots_created=len(diff.create),
        slots_changed=len(diff.retime),
        slots_blocked=blocked,
        appointments_cancelled=[a.pk for a in cancelled],
    )
    return SchedulePublished(rule=rule, diff=diff, cancelled=cancelled)


def _announce_new_times(
    doctor_id: int, slot_ids: list[int], starts: list[datetime.datetime]
) -> None:
    """After a publish commits: the times it opened are announced (the waitlist offers
    them first, docs/waitlist.md). The inserted rows' ids are found by their unique
    (doctor, start)."""
    inserted = Slot.objects.filter(doctor_id=doctor_id, starts_at__in=starts)
    announce_after_commit(
        slots_opened, slot_ids=[*slot_ids, *inserted.values_list("pk", flat=True)]
    )


def schedule_publish(
    *,
    actor: User,
    doctor: Doctor,
    rule_id: int | None,
    draft: RuleDraft,
    reason: str,
    expected_cancelled: Collection[int] | None = None,
    ip: str | None = None,
) -> SchedulePublished:
    """Publish a new or changed weekly rule of ``doctor`` (fetched inside ``actor``'s
    scope): the rule saved, new slots created, free slots outside the new hours blocked,
    and every appointment on a time no longer worked cancelled by the clinic with
    ``reason`` as an absence cancels it (patient and guardians told after the commit).

    ``expected_cancelled``: the appointment ids the clerk saw in the preview; one more
    found under the locks refuses with `schedule_stale`. Other refusals:
    `schedule_invalid`, `schedule_rule_unknown`, `clinic_cancel_no_reason`,
    `clinic_cancel_foreign`, `busy` (still locked out after the retries).
    """
    reason = clinic_reason(actor, doctor, reason)
    return retried_whole(
        partial(
            _publish_schedule,
            actor=actor,
            doctor_id=doctor.pk,
            rule_id=rule_id,
            draft=draft,
            reason=reason,
            expected=expected_cancelled,
            ip=ip,
        ),
        attempts=SCHEDULE_ATTEMPTS,
        what=f"schedule of doctor {doctor.pk}",
        refusal=busy,
    )
