"""A fair-release draw's bookings, all in one transaction (docs/fair-release.md, «The draw»;
docs/concurrency.md lists it among the writers).

Booking one kept slot per transaction, with its own locks and reads, cost a draw that
once per slot it gave and once per refusal it met (issue 25). Here the booking service
does, once for the whole draw, what `booking._book` does for one booking:

1. locks every requesting patient (lock 1, ascending id, one statement), every slot of
   the draw (lock 2, ascending id, one statement) and, for a referral-only specialty,
   the patients' referrals to it (lock 3, one statement);
2. reads what the rules need, one statement each: the patients' active appointments, and
   the bookings already made with the draw's keys (a draw finished after its worker died
   replays them rather than booking twice);
3. lets the caller decide — the draw's pure `allocation.allocate` — answering each
   (request, slot) it asks with the booking's own rules in memory (`rules.is_draw_reservation`,
   `rules.slot_booking_refusal`, `booking.referral_pick`), authoritative because every row
   they read is locked; a booking made here counts for the patient's next question;
4. writes in bulk: one conditional UPDATE of the slots, the appointments, their audit
   events, the patients' messages (`events.appointments_booked`), the referral uses.

One durable transaction with the lock timeout, as long as its dozen statements: patients'
own bookings wait for it milliseconds, not the length of the draw.
"""

import datetime
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Generic, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.audit.models import AuditAction
from portal.audit.services import AuditEntry, audit_record_many
from portal.core.dbrouter import primary_reads
from portal.core.locking import lock_timeout_set, require_transaction, retried_whole
from portal.directory.models import Specialty
from portal.identity.models import User
from portal.patients.locks import patients_lock_in_order
from portal.referrals.locks import referrals_lock_of_patients
from portal.referrals.models import Referral
from portal.referrals.services import referral_use
from portal.scheduling import rules, selectors
from portal.scheduling.booking import booking_logged, referral_pick
from portal.scheduling.errors import CONFLICT_CODES, BookingRefused, busy
from portal.scheduling.events import announce, appointments_booked
from portal.scheduling.models import Appointment, Slot
from portal.scheduling.tickets import ticket_code_new

# A lock wait that ran out or a deadlock: the whole transaction again, then «busy».
ATTEMPTS = 3

Decided = TypeVar("Decided")


@dataclass(frozen=True)
class DrawAsk:
    """One request of the draw: book for this patient, as this account (whoever asked,
    checked by the caller to be still allowed to act for them), with this key."""

    patient_id: int
    actor: User
    key: uuid.UUID


Book = Callable[[DrawAsk, int], str | None]  # a refusal code, or None: booked


@dataclass(frozen=True)
class DrawBooked(Generic[Decided]):
    decided: Decided  # what the caller's decision returned
    appointments: dict[uuid.UUID, int]  # key → appointment, made now or replayed


@dataclass(frozen=True)
class _Span:
    """A booking made in this transaction, as the per-patient rules read it."""

    specialty_id: int
    starts_at: datetime.datetime
    ends_at: datetime.datetime


@dataclass(frozen=True)
class _Booking:
    ask: DrawAsk
    slot: Slot
    referral: Referral | None


def _slots_lock(slot_ids: Collection[int]) -> dict[int, Slot]:
    """Lock 2 for many slots: ascending id, one statement (`slot_locks.slot_lock`'s row)."""
    require_transaction()
    locked = (
        Slot.objects.select_for_update(of=("self",))
        .select_related("doctor__clinic", "doctor__specialty")
        .filter(pk__in=set(slot_ids))
        .order_by("pk")
    )
    return {slot.pk: slot for slot in locked}


def _referrals_lock(
    patient_ids: Collection[int], slots: Iterable[Slot]
) -> dict[int, list[Referral]]:
    """Lock 3, only for referral-only specialties (`booking.referrals_for`)."""
    held: dict[int, list[Referral]] = {}
    specialties = {s.doctor.specialty_id for s in slots if _needs_referral(s)}
    for specialty_id in sorted(specialties):
        for referral in referrals_lock_of_patients(patient_ids, specialty_id):
            held.setdefault(referral.patient_id, []).append(referral)
    return held


def _needs_referral(slot: Slot) -> bool:
    return slot.doctor.specialty.access == Specialty.Access.REFERRAL


class _Session:
    """The locked rows and the decisions of one attempt."""

    def __init__(self, asks: Sequence[DrawAsk], slot_ids: Collection[int]) -> None:
        self.now = timezone.now()
        self.patients = patients_lock_in_order({a.patient_id for a in asks})
        self.slots = _slots_lock(slot_ids)
        self.referrals = _referrals_lock(self.patients, self.slots.values())
        self.active: dict[int, list[rules.ActiveAppointment]] = {
            pk: list(rows)
            for pk, rows in selectors.appointments_list_active_of(self.patients, self.now).items()
        }
        self.earlier = dict(
            (
                ((booked_by, key), pk)
                for booked_by, key, pk in Appointment.objects.filter(
                    idempotency_key__in={a.key for a in asks}
                ).values_list("booked_by_id", "idempotency_key", "pk")
            )
        )
        self.bookings: list[_Booking] = []
        self.replayed: dict[uuid.UUID, int] = {}
        self.taken: set[int] = set()

    def book(self, ask: DrawAsk, slot_id: int) -> str | None:
        earlier = self.earlier.get((ask.actor.pk, ask.key))
        if earlier is not None:  # this draw booked it before its worker died
            self.replayed[ask.key] = earlier
            return None
        try:
            referral = self._decide(ask, slot_id)
        except BookingRefused as refused:
            return self._told(ask, refused.code)
        slot = self.slots[slot_id]
        self.taken.add(slot_id)
        self.active[ask.patient_id].append(
            _Span(slot.doctor.specialty_id, slot.starts_at, slot.ends_at)
        )
        self.bookings.append(_Booking(ask, slot, referral))
        return None

    def _decide(self, ask: DrawAsk, slot_id: int) -> Referral | None:
        """`booking._book`'s decision with `from_draw`, over the locked rows."""
        slot = self.slots.get(slot_id)
        if slot is None or slot_id in self.taken or not rules.is_draw_reservation(slot, self.now):
            raise BookingRefused("slot_taken")
        patient = self.patients[ask.patient_id]
        referrals = self.referrals.get(patient.pk, [])
        # The reservation counts as this patient's hold, as in `_book`.
        slot.held_for_id = patient.pk
        try:
            code = rules.slot_booking_refusal(
                patient,
                ask.actor.pk,
                slot,
                active=self.active[patient.pk],
                now=self.now,
                referrals=referrals,
            )
        finally:
            slot.held_for_id = None
        if code:
            raise BookingRefused(code)
        return referral_pick(referrals, slot, None, self.now)

    def _told(self, ask: DrawAsk, code: str) -> str:
        """The refusal as `_book` tells it: another guardian's booking is not named."""
        if code not in CONFLICT_CODES:
            return code
        hidden = selectors.conflicts_hidden_from(ask.actor, self.patients[ask.patient_id])
        return selectors.refusal_told(code, conflicts_hidden=hidden)

    def write(self) -> dict[uuid.UUID, int]:
        """The decided bookings, in bulk; key → appointment of every booking."""
        made = dict(self.replayed)
        if not self.bookings:
            return made
        ids = [b.slot.pk for b in self.bookings]
        claimed = Slot.objects.filter(pk__in=ids, status=Slot.Status.FREE).update(
            status=Slot.Status.BOOKED, held_for=None, held_until=None
        )
        if claimed != len(ids):  # cannot happen under the slot locks: roll back, never half
            raise BookingRefused("slot_taken")
        appointments = Appointment.objects.bulk_create(
            [self._appointment(b) for b in self.bookings]
        )
        audit_record_many(
            AuditEntry(
                AuditAction.APPOINTMENT_BOOKED,
                b.ask.actor.pk,
                a.patient_id,
                {
                    "appointment": a.pk,
                    "ticket": a.ticket_number,
                    "doctor": b.slot.doctor_id,
                    "starts_at": b.slot.starts_at.isoformat(),
                },
            )
            for b, a in zip(self.bookings, appointments, strict=True)
        )
        for b, a in zip(self.bookings, appointments, strict=True):
            if b.referral is not None:
                referral_use(
                    b.referral, appointment_id=a.pk, actor=b.ask.actor, patient=a.patient, ip=None
                )
            transaction.on_commit(partial(booking_logged, a.pk, a.ticket_number))
        announce(appointments_booked, appointments=appointments)
        made.update({a.idempotency_key: a.pk for a in appointments})
        return made

    def _appointment(self, booking: _Booking) -> Appointment:
        slot = booking.slot
        slot.status, slot.held_for_id, slot.held_until = Slot.Status.BOOKED, None, None
        return Appointment(
            slot=slot,
            patient=self.patients[booking.ask.patient_id],
            booked_by=booking.ask.actor,
            specialty_id=slot.doctor.specialty_id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            ticket_number=ticket_code_new(),
            idempotency_key=booking.ask.key,
        )


def appointments_book_for_draw(
    *,
    asks: Sequence[DrawAsk],
    slot_ids: Collection[int],
    decide: Callable[[Book], Decided],
) -> DrawBooked[Decided]:
    """Book a fair-release draw's winners in one transaction: ``decide`` (the draw) is
    given the booking's answer for (request, slot) under the locks of every patient of
    ``asks`` and every slot of ``slot_ids``; what it booked is written when it returns.

    Only slots still kept for the draw (`slots_reserve_for_draw`) are booked, each with
    every rule of `appointment_book`. ``decide`` may run again (a lock wait that ran out,
    a deadlock, a constraint a twin run tripped): it must start afresh each time. Raises
    BookingRefused("busy") when the locks stay taken.
    """

    def attempt() -> DrawBooked[Decided]:
        with transaction.atomic(durable=True):
            lock_timeout_set()
            session = _Session(asks, slot_ids)
            decided = decide(session.book)
            return DrawBooked(decided, session.write())

    def once_more_after_a_constraint() -> DrawBooked[Decided]:
        try:
            return attempt()
        except IntegrityError:
            # A twin run's bookings with the same keys (now read as replays), or a ticket
            # code drawn twice: the whole transaction once more, then the error stands.
            return attempt()

    with primary_reads():
        return retried_whole(
            once_more_after_a_constraint,
            attempts=ATTEMPTS,
            what="a draw's bookings",
            refusal=busy,
        )
