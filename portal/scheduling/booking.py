"""Booking: a free slot becomes a patient's appointment (docs/concurrency.md).

The one writer that claims a slot. Every claim — a booking, a move, a draw's booking —
goes through `claiming`: the lock-free refusal of a slot already gone, the patient and
slot locks in the policy's order, the rules asked again under them, and the constraints'
verdict turned into a replay or a refusal, never a database error.
"""

import datetime
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from portal.audit.models import AuditAction
from portal.audit.services import audit_record
from portal.core import rows
from portal.core.dbrouter import primary_reads
from portal.core.locking import busy_on_lock_timeout
from portal.directory.models import Doctor
from portal.identity.models import User
from portal.patients.locks import patient_lock_fresh
from portal.patients.models import Patient
from portal.referrals import rules as referral_rules
from portal.referrals.locks import referrals_lock
from portal.referrals.models import Referral
from portal.referrals.services import referral_use
from portal.scheduling import rules, selectors
from portal.scheduling.errors import BookingRefused, busy
from portal.scheduling.events import (
    announce,
    appointment_booked,
    appointment_booking,
    rows_asked,
)
from portal.scheduling.models import Appointment, Slot
from portal.scheduling.slot_locks import slot_lock_for_booking
from portal.scheduling.tickets import ticket_code_new

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BookingNote:
    """What the patient said when booking (FHIR Appointment.comment and reasonCode)."""

    comment: str = ""
    reason: str = ""


@dataclass(frozen=True)
class BookingResult:
    appointment: Appointment
    created: bool  # False when the idempotency key replayed an earlier booking


@dataclass(frozen=True)
class SlotGlance:
    """A slot's state read without a lock: enough to refuse, never to grant. Every column
    of the slot, so that the page of a refused POST is drawn from it (`as_slot`) instead
    of reading the slot again."""

    id: int
    doctor_id: int
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    status: str
    opens_at: datetime.datetime
    held_for_id: int | None
    held_until: datetime.datetime | None
    doctor_active: bool

    def as_slot(self) -> Slot:
        """The slot as read, a complete instance (its doctor not attached)."""
        values = [getattr(self, name) for name in GLANCE.attnames]
        return rows.built(Slot, DEFAULT_DB_ALIAS, GLANCE.attnames, values)

    def opens_later(self, now: datetime.datetime) -> bool:
        return self.opens_at > now

    def kept_for_draw(self, now: datetime.datetime) -> bool:
        """Kept for a fair-release draw, and nothing the locked check names before that
        (`rules.slot_booking_refusal`: taken, blocked, past, not open — the slot's state
        comes first, then `rules.hold_refusal`), so the answer is the one the locks would
        give: slot_in_draw."""
        open_and_free = self.status == Slot.Status.FREE and self.doctor_active
        return (
            open_and_free
            and now < self.starts_at
            and not self.opens_later(now)
            and rules.is_draw_reservation(self, now)
        )


GLANCE = rows.Shape(Slot, "s")  # every column (SlotGlance.as_slot)


@cache
def _glance_sql(vendor: str) -> str:
    del vendor  # part of the key: the quoting is the engine's
    q = rows.quoted
    return (
        f"SELECT {GLANCE.sql()}, d.is_active FROM {q(Slot._meta.db_table)} s "
        f"JOIN {q(Doctor._meta.db_table)} d ON d.id = s.doctor_id WHERE s.id = %s"
    )


def slot_glance(slot_id: int) -> SlotGlance | None:
    """The slot's status, times, hold and its doctor's activity, lock-free, from the
    primary (`core.rows`), in one indexed read; None for an unknown id."""
    with rows.prepared() as cursor:
        cursor.execute(_glance_sql(connection.vendor), [slot_id])
        row = cursor.fetchone()
    if row is None:
        return None
    active = rows.converted((Doctor._meta.get_field("is_active"),), row[GLANCE.width :])[0]
    return SlotGlance(**GLANCE.values(row[: GLANCE.width]), doctor_active=active)


@cache
def _replay_sql(vendor: str) -> str:
    del vendor  # part of the key: the quoting is the engine's
    q = rows.quoted
    meta = Appointment._meta
    return (
        f"SELECT {q(meta.pk.column)} FROM {q(meta.db_table)} "
        f"WHERE {q(meta.get_field('booked_by').column)} = %s "
        f"AND {q(meta.get_field('idempotency_key').column)} = %s"
    )


def replay(actor: User, key: uuid.UUID) -> BookingResult | None:
    """The booking an earlier request with this form key made, if any (a double click).

    Asked on every refusal of a taken slot — at 07:00, and after a draw at a day's
    opening, most POSTs — and almost never found: the unique (booked_by, key) is looked up
    by one prepared statement written out (`core.rows`) instead of a query the ORM builds
    each time (about a fifth of such a POST: docs/performance.md, «A taken slot's
    refusal»); the appointment is read whole only when there is one."""
    value = Appointment._meta.get_field("idempotency_key").get_db_prep_value(key, connection)
    with rows.prepared() as cursor:
        cursor.execute(_replay_sql(connection.vendor), [actor.pk, value])
        row = cursor.fetchone()
    if row is None:
        return None
    return BookingResult(Appointment.objects.get(pk=row[0]), created=False)


def referrals_for(patient: Patient, slot: Slot) -> list[Referral]:
    """Lock 3, only for a referral-only specialty: the patient's referrals to it
    (`referrals.locks`), so a clinic's cancel of one cannot slip between check and write."""
    specialty = slot.doctor.specialty
    if specialty.access != specialty.Access.REFERRAL:
        return []
    return referrals_lock(patient.pk, specialty.pk)


def _check(
    patient: Patient,
    actor_id: int,
    slot: Slot,
    now: datetime.datetime,
    referrals: list[Referral] | None,
    active: Iterable[rules.ActiveAppointment],
) -> None:
    """Decide again, under the locks, with the one function the pages ask
    (`rules.slot_booking_refusal`): the slot's state, the place, the patient's appointments
    (``active``, read under the patient lock) and referrals.

    The per-patient rules (one per specialty, no overlap) read other rows: without the
    patient lock two requests could both pass here and both write.
    """
    code = rules.slot_booking_refusal(
        patient, actor_id, slot, active=active, now=now, referrals=referrals or []
    )
    if code:
        raise BookingRefused(code)


def referral_pick(
    referrals: list[Referral], slot: Slot, wanted: int | None, now: datetime.datetime
) -> Referral | None:
    """The referral this booking uses (the patient's pick, else the soonest expiring that
    fits); None for a specialty that needs none. A pick that does not fit is refused."""
    if slot.doctor.specialty.access != slot.doctor.specialty.Access.REFERRAL:
        return None
    chosen = referral_rules.referral_choice(
        referrals,
        slot.doctor.specialty_id,
        slot.doctor.clinic_id,
        timezone.localdate(now),
        wanted,
    )
    if chosen is None:
        raise BookingRefused("referral_not_usable")
    return chosen


@cache
def _claim_sql(vendor: str) -> str:
    del vendor  # part of the key: the quoting is the engine's
    return (
        f"UPDATE {rows.quoted(Slot._meta.db_table)} "
        "SET status = %s, held_for_id = NULL, held_until = NULL WHERE id = %s AND status = %s"
    )


def _claim_params(slot: Slot) -> list[Any]:
    return [Slot.Status.BOOKED, slot.pk, Slot.Status.FREE]


def _claimed(slot: Slot) -> None:
    slot.status, slot.held_for_id, slot.held_until = Slot.Status.BOOKED, None, None


def slot_claim(slot: Slot) -> None:
    """Conditional UPDATE: only a free slot becomes booked (its hold, if any, ends with
    it); the row count says if it did."""
    with rows.prepared() as cursor:
        cursor.execute(_claim_sql(connection.vendor), _claim_params(slot))
        claimed = cursor.rowcount
    if claimed != 1:
        raise BookingRefused("slot_taken")
    _claimed(slot)


def booking_logged(appointment_id: int, ticket: str) -> None:
    # The operator's log line of a committed booking; the patient's messages were written
    # to the outbox in the transaction (events.appointment_booked).
    logger.info("appointment %s booked, ticket %s", appointment_id, ticket)


def appointment_new(
    actor: User, patient: Patient, slot: Slot, key: uuid.UUID, note: BookingNote | None = None
) -> Appointment:
    """The appointment for ``slot``, not yet written. It holds its slot (with the doctor,
    clinic and specialty), its patient and its specialty, so the messages written with
    it read no more rows."""
    note = note or BookingNote()
    return Appointment(
        comment=note.comment,
        reason=note.reason,
        slot=slot,
        patient=patient,
        booked_by=actor,
        specialty=slot.doctor.specialty,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        ticket_number=ticket_code_new(),
        idempotency_key=key,
    )


@cache
def _fed_by_appointment(model: type[Model]) -> tuple[str, int]:
    """A companion's INSERT fed from the appointment's (``booked``): its ``appointment``
    column takes the new appointment's id; the index of that column among the params."""
    insert = rows.insert_of(model)
    at = next(i for i, f in enumerate(insert.fields) if f.name == "appointment")
    values = ["%s"] * len(insert.fields)
    values[at] = "booked.id"
    return f"{insert.into} SELECT {', '.join(values)} FROM booked {insert.returning}", at


@cache
def _claim_and_insert_sql(vendor: str, companions: tuple[type[Model], ...] = ()) -> str:
    del vendor  # part of the key: the quoting and RETURNING are the engine's
    insert = rows.insert_of(Appointment)
    ctes = [
        f"claimed AS ({_claim_sql(connection.vendor)} RETURNING id)",
        f"booked AS ({insert.into} SELECT {insert.placeholders} FROM claimed {insert.returning})",
    ]
    ctes += [f"c{i} AS ({_fed_by_appointment(m)[0]})" for i, m in enumerate(companions)]
    # One output row (the appointment's id, then each companion's), or none when the slot
    # was not free: then nothing at all was written.
    keys = ", ".join(["booked.id", *(f"c{i}.id" for i in range(len(companions)))])
    sources = ", ".join(["booked", *(f"c{i}" for i in range(len(companions)))])
    return f"WITH {', '.join(ctes)} SELECT {keys} FROM {sources}"


def _companion_params(companions: Sequence[Model]) -> list[Any] | None:
    """The companions' params without their ``appointment`` column (fed by the
    statement); None when one of them may only be written by the ORM."""
    out: list[Any] = []
    for row in companions:
        params = rows.insert_params(row)
        if params is None:
            return None
        del params[_fed_by_appointment(type(row))[1]]
        out += params
    return out


def appointment_claim(
    actor: User,
    patient: Patient,
    slot: Slot,
    key: uuid.UUID,
    note: BookingNote | None = None,
    companions: Sequence[Model] = (),
) -> Appointment:
    """Claim the slot (`slot_claim`'s conditional UPDATE) and write its appointment
    (expects both locks), with ``companions``: unsaved rows with a ForeignKey
    ``appointment`` (`events.appointment_booking`), given their appointment and key.

    On PostgreSQL ONE statement (data-modifying CTEs): the INSERTs take their rows from
    the UPDATE's, so nothing is written unless the slot was free; elsewhere one statement
    after another. Raises slot_taken when the slot was not free."""
    appointment = appointment_new(actor, patient, slot, key, note)
    params = rows.insert_params(appointment) if connection.vendor == "postgresql" else None
    extra = _companion_params(companions) if params is not None else None
    if params is None or extra is None:
        slot_claim(slot)
        rows.insert(appointment)
        for row in companions:
            row.appointment = appointment  # type: ignore[attr-defined]
            rows.insert(row)
        return appointment
    sql = _claim_and_insert_sql(connection.vendor, tuple(type(row) for row in companions))
    # Prepared: the text is fixed per set of companion models (a handful per process).
    with rows.prepared() as cursor:
        cursor.execute(sql, [*_claim_params(slot), *params, *extra])
        row = cursor.fetchone()
    if row is None:
        raise BookingRefused("slot_taken")
    _claimed(slot)
    for companion, pk in zip(companions, row[1:], strict=True):
        companion.appointment = appointment  # type: ignore[attr-defined]
        rows.inserted(companion, pk)
    return rows.inserted(appointment, row[0])


@transaction.atomic(durable=True)
def _book(
    *,
    actor: User,
    patient: Patient,
    slot_id: int,
    key: uuid.UUID,
    ip: str | None,
    device: str | None,
    from_draw: bool = False,
    referral_id: int | None = None,
    note: BookingNote | None = None,
) -> BookingResult:
    patient = patient_lock_fresh(patient, timeout_first=True)
    locked = slot_lock_for_booking(slot_id, patient.pk, timezone.now())
    slot = locked.slot
    referrals = referrals_for(patient, slot)
    # Everything read before the locks is advisory; decide again now.
    now = timezone.now()
    try:
        if from_draw:
            # Only a slot still kept for the draw: the reservation then counts as this
            # patient's hold (in memory; the claim below clears it), every other rule applies.
            if not rules.is_draw_reservation(slot, now):
                raise BookingRefused("slot_taken")
            slot.held_for_id = patient.pk
        _check(patient, actor.pk, slot, now, referrals, locked.active)
        referral = referral_pick(referrals, slot, referral_id, now)
    except BookingRefused as refused:
        # A double click whose first request won finds its slot taken (or its specialty
        # booked) here, under the patient lock: give it the first booking. Asked only on
        # a refusal, so a booking that goes through costs no extra read; a repeated key
        # that would pass the check still meets the unique (booked_by, key) at INSERT
        # and is replayed by `claiming` (docs/concurrency.md).
        if (earlier := replay(actor, key)) is not None:
            return earlier
        hidden = selectors.conflicts_hidden_from(actor, patient)
        raise BookingRefused(
            selectors.refusal_told(refused.code, conflicts_hidden=hidden)
        ) from None
    # What the outbox writes with the booking (one `Event`), in the claim's statement.
    companions = rows_asked(appointment_booking, patient=patient)
    appointment = appointment_claim(actor, patient, slot, key, note, companions)
    audit_record(
        AuditAction.APPOINTMENT_BOOKED,
        actor=actor,
        ip=ip,
        patient=patient,
        appointment=appointment.pk,
        ticket=appointment.ticket_number,
        doctor=slot.doctor_id,
        starts_at=slot.starts_at.isoformat(),
        **({"device": device} if device else {}),
    )
    if referral is not None:
        referral_use(referral, appointment_id=appointment.pk, actor=actor, patient=patient, ip=ip)
    announce(appointment_booked, appointment=appointment, written=companions)
    transaction.on_commit(partial(booking_logged, appointment.pk, appointment.ticket_number))
    return BookingResult(appointment, created=True)


def appointment_book(
    *,
    actor: User,
    patient: Patient,
    slot_id: int,
    idempotency_key: uuid.UUID,
    ip: str | None = None,
    device: str | None = None,
    referral_id: int | None = None,
    note: BookingNote | None = None,
    glance: SlotGlance | None = None,
) -> BookingResult:
    """Book ``slot_id`` for ``patient`` (whom the caller has checked ``actor`` may act for).

    A referral-only specialty uses one of the patient's referrals (docs/referrals.md):
    ``referral_id`` when the patient picked one, else the soonest expiring that fits.
    ``glance``: the slot as the caller read it with `slot_glance` in this request (the
    page's rate limit, the API's 404), so the lock-free early refusal does not read it
    again.
    Raises BookingRefused with a code of errors.ERRORS; never a database error.
    """
    return claiming(
        actor,
        slot_id,
        idempotency_key,
        partial(
            _book,
            actor=actor,
            patient=patient,
            slot_id=slot_id,
            key=idempotency_key,
            ip=ip,
            device=device,
            referral_id=referral_id,
            note=note,
        ),
        glance=glance,
    )


def claiming(
    actor: User,
    slot_id: int,
    key: uuid.UUID,
    write: Callable[[], BookingResult],
    *,
    glance: SlotGlance | None = None,
) -> BookingResult:
    """What every claim of a slot (a booking, a move) does around its transaction: the
    lock-free refusal of a taken slot, "busy" on a lock timeout, and the constraints'
    verdict turned into a replay or a refusal, never a database error.

    Every read here is from the primary, even the lock-free one: a replica a moment
    behind would refuse a slot just freed (docs/operations.md, «Several app servers»).
    """
    with primary_reads():
        early = _answer_for_taken_slot(
            actor=actor, slot_id=slot_id, idempotency_key=key, glance=glance
        )
        if early is not None:
            return early
        try:
            with busy_on_lock_timeout(busy):
                return write()
        except IntegrityError as exc:
            # The constraints caught what the locks should have: a twin request with the
            # same key won (replay it), or the slot was taken.
            if (earlier := replay(actor, key)) is not None:
                return earlier
            raise BookingRefused("slot_taken") from exc


def _answer_for_taken_slot(
    *, actor: User, slot_id: int, idempotency_key: uuid.UUID, glance: SlotGlance | None
) -> BookingResult | None:
    """At 07:00 most POSTs are for slots already gone, just before it for slots not open
    yet, and at a fair-release day's opening for slots its draw keeps: answer those
    without locks, in the one read this costs anyway.

    A lock-free read is enough to refuse: a booked slot only frees up by a cancellation,
    and a click a moment later would be refused too; a slot that opens later opens only
    by time, and the locked check names that reason first as well; a kept slot is let go
    only by its draw, a moment later at best. It is never enough
    to *grant* a slot; that happens only under the locks in `_book`. A double click whose
    first request won must still get its appointment back, not "taken". Writes nothing.
    """
    glance = glance or slot_glance(slot_id)
    if glance is None:
        return None  # refused under the lock, like any unknown id
    if glance.status == Slot.Status.BOOKED:
        if (earlier := replay(actor, idempotency_key)) is not None:
            return earlier
        raise BookingRefused("slot_taken")
    now = timezone.now()
    if glance.opens_later(now):
        raise BookingRefused("slot_not_open")
    if glance.kept_for_draw(now):
        # At the opening most POSTs of a fair-release day are for slots its draw keeps:
        # refused here, before any lock (docs/fair-release.md). No replay to look for: a
        # kept slot is free, so no form of this actor's can have booked it.
        raise BookingRefused("slot_in_draw")
    return None
