"""Writes of the waitlist and the offers (docs/waitlist.md; read it first).

An offer holds a slot for one patient through the booking service (`slot_hold`,
`slot_hold_release`) and is taken through it (`appointment_book`): this module never
writes booking state itself (docs/concurrency.md, «Writers of booking state»). Every
entry point opens its own durable transaction and is safe to call again: a double click,
a second guardian, the sweep and a click racing each other end in one outcome.

Public entry points other apps call (their signatures are a contract):
`rebook_offer_make`, `entry_join`, `slot_freed`.
"""

import datetime
import logging
from collections.abc import Collection, Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.audit.models import AuditAction
from portal.audit.services import audit_record
from portal.directory.models import Clinic, Doctor, Specialty
from portal.identity.models import User
from portal.notifications.models import Kind as MessageKind
from portal.notifications.services import offer_made_notify
from portal.patients.models import Patient
from portal.patients.selectors import patient_ids_actable_by
from portal.scheduling import rules
from portal.scheduling import selectors as booking_selectors
from portal.scheduling import services as booking
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Appointment, Slot
from portal.waitlist import selectors
from portal.waitlist.errors import WaitlistRefused
from portal.waitlist.models import TIME_BANDS, Offer, WaitlistEntry

logger = logging.getLogger(__name__)

# Waiting entries read at a time while matching a freed slot: the first one usually
# fits, so a small batch keeps the common case one short indexed read.
MATCH_BATCH = 5
MATCH_MAX_TRIES = 200  # entries re-checked for one slot before giving up


class _NoOffer(Exception):
    """Roll the offer's transaction back: the slot or the entry was taken meanwhile."""


# --- the hold's length --------------------------------------------------------------


def offer_expiry(starts_at: datetime.datetime, now: datetime.datetime) -> datetime.datetime | None:
    """Until when an offer of a slot starting at ``starts_at`` holds it, or None if the
    slot is too soon to offer (docs/waitlist.md, «Holds»).

    WAITLIST_OFFER_HOLD_MINUTES, but never past the start minus
    WAITLIST_OFFER_MARGIN_MINUTES, so a declined or lapsed offer still leaves the time to
    someone else; shorter than WAITLIST_OFFER_MIN_MINUTES is no real chance to answer.
    """
    until = min(
        now + datetime.timedelta(minutes=settings.WAITLIST_OFFER_HOLD_MINUTES),
        starts_at - datetime.timedelta(minutes=settings.WAITLIST_OFFER_MARGIN_MINUTES),
    )
    if until < now + datetime.timedelta(minutes=settings.WAITLIST_OFFER_MIN_MINUTES):
        return None
    return until


# --- making an offer ------------------------------------------------------------------


def _actor_for(patient: Patient, booked_by_id: int | None) -> int | None:
    """Whose booking the rules judge: the patient's own account, else who asked."""
    return patient.user_id if patient.user_id is not None else booked_by_id


def _slot_refusal_for(patient: Patient, actor_id: int | None, slot: Slot) -> str | None:
    """The booking's own decision for this patient and slot (`rules.slot_booking_refusal`):
    the same checks a booking makes, re-checked whenever an offer is made."""
    now = timezone.now()
    active = booking_selectors.appointments_list_active(patient, now)
    return rules.slot_booking_refusal(patient, actor_id, slot, active=active, now=now)


def _offer_create(
    *,
    kind: str,
    patient: Patient,
    slot: Slot,
    until: datetime.datetime,
    booked_by_id: int | None,
    entry: WaitlistEntry | None = None,
    cancelled: Appointment | None = None,
) -> Offer | None:
    """Hold ``slot`` for ``patient`` and write the offer, its audit event and its
    notifications in one transaction; None if the slot or the entry went meanwhile."""
    try:
        with transaction.atomic(durable=True):
            # The slot lock is taken inside slot_hold: a hold and a booking cannot both win.
            if not booking.slot_hold(slot_id=slot.pk, patient_id=patient.pk, until=until):
                raise _NoOffer
            if entry is not None:
                moved = WaitlistEntry.objects.filter(
                    pk=entry.pk, status=WaitlistEntry.Status.WAITING
                ).update(status=WaitlistEntry.Status.OFFERED)
                if moved != 1:
                    raise _NoOffer
            offer = Offer.objects.create(
                patient=patient,
                slot=slot,
                kind=kind,
                expires_at=until,
                entry=entry,
                cancelled=cancelled,
            )
            audit_record(
                AuditAction.OFFER_MADE,
                actor=None,
                ip=None,
                patient=patient,
                offer=offer.pk,
                kind=kind,
                slot=slot.pk,
                starts_at=slot.starts_at.isoformat(),
                expires_at=until.isoformat(),
                **({"entry": entry.pk} if entry is not None else {}),
                **({"appointment": cancelled.pk} if cancelled is not None else {}),
            )
            offer_made_notify(
                offer_id=offer.pk,
                kind=MessageKind.OFFER_REBOOK
                if kind == Offer.Kind.REBOOK
                else MessageKind.OFFER_WAITLIST,
                patient=patient,
                slot=slot,
                expires_at=until,
                booked_by_id=booked_by_id,
                cancelled=cancelled,
            )
            return offer
    except (_NoOffer, IntegrityError, BookingRefused):
        # IntegrityError: a twin offer of this slot or entry won (the partial unique
        # constraints); BookingRefused: the slot was locked past the lock timeout.
        return None


def rebook_offer_make(
    *, appointment: Appointment, now: datetime.datetime | None = None
) -> Offer | None:
    """After a clinic cancelled ``appointment``: hold the same doctor's next free time,
    else a colleague's of the same specialty at the same clinic, for its patient, and
    tell the patient (every guardian, for a child). None if nothing can be offered.

    Called on commit of the clinic's cancel (`scheduling.services`); safe to call twice
    (one rebook offer per cancelled appointment).
    """
    now = now or timezone.now()
    appointment = Appointment.objects.select_related("patient__clinic", "slot__doctor").get(
        pk=appointment.pk
    )
    if appointment.status != Appointment.Status.CANCELLED_CLINIC:
        return None
    if Offer.objects.filter(cancelled=appointment, kind=Offer.Kind.REBOOK).exists():
        return None
    patient = appointment.patient
    actor_id = _actor_for(patient, appointment.booked_by_id)
    doctor = appointment.slot.doctor
    for slot in selectors.slots_for_rebook(
        doctor.pk, doctor.clinic_id, appointment.specialty_id, exclude_slot=appointment.slot_id
    ):
        until = offer_expiry(slot.starts_at, now)
        if until is None or _slot_refusal_for(patient, actor_id, slot):
            continue
        offer = _offer_create(
            kind=Offer.Kind.REBOOK,
            patient=patient,
            slot=slot,
            until=until,
            booked_by_id=appointment.booked_by_id,
            cancelled=appointment,
        )
        if offer is not None:
            return offer
    logger.info("no rebook offer for appointment %s: nothing free", appointment.pk)
    return None


def slot_freed(slot_id: int) -> Offer | None:
    """A slot became free (a cancellation, a declined or lapsed offer, a new day): offer
    it to the first waiting entry it fits whose patient the booking rules still accept.

    Called on commit; never inside another transaction. None if nobody fits, the slot
    is not bookable now (taken, blocked, not open yet, held) or too soon to offer.
    """
    now = timezone.now()
    _offers_expire_for_slot(slot_id, now)
    slot = (
        Slot.objects.filter(booking_selectors.bookable_q(now), pk=slot_id)
        .select_related("doctor__clinic", "doctor__specialty")
        .first()
    )
    if slot is None:
        return None
    until = offer_expiry(slot.starts_at, now)
    if until is None:
        return None
    after: tuple[datetime.datetime, int] | None = None
    tried = 0
    while tried < MATCH_MAX_TRIES:
        batch = selectors.entries_matching_slot(slot, limit=MATCH_BATCH, after=after)
        if not batch:
            return None
        for entry in batch:
            tried += 1
            if _slot_refusal_for(
                entry.patient, _actor_for(entry.patient, entry.created_by_id), slot
            ):
                continue  # the rules refuse them this slot now; they keep their place
            offer = _offer_create(
                kind=Offer.Kind.WAITLIST,
                patient=entry.patient,
                slot=slot,
                until=until,
                booked_by_id=entry.created_by_id,
                entry=entry,
            )
            if offer is not None:
                return offer
            if not Slot.objects.filter(booking_selectors.bookable_q(now), pk=slot_id).exists():
                return None  # the slot itself went (booked, held by a twin call)
        after = (batch[-1].created_at, batch[-1].pk)
    return None


def slots_freed(slot_ids: Iterable[int]) -> int:
    """`slot_freed` for each of ``slot_ids`` (a new day, a schedule change): offers made."""
    return sum(1 for slot_id in slot_ids if slot_freed(slot_id) is not None)


# --- the waitlist -----------------------------------------------------------------------


def _times_clean(times: str) -> str:
    bands = [t.strip() for t in times.split(",") if t.strip()]
    if any(t not in TIME_BANDS for t in bands):
        raise WaitlistRefused("times_unknown")
    # All parts of the day is the same as "any time".
    chosen = [t for t in TIME_BANDS if t in bands]
    return "" if len(chosen) == len(TIME_BANDS) else ",".join(chosen)


def entry_join_refusal(
    *,
    actor_id: int,
    patient: Patient,
    clinic: Clinic,
    specialty: Specialty,
    doctor: Doctor | None,
    date_from: datetime.date,
    date_to: datetime.date,
    active: list[Appointment] | None = None,
    place_doctors: Collection[int] | None = None,
) -> str | None:
    """The first reason ``patient`` may not join this waitlist, or None: the booking's
    own rules for the place (`rules.booking_refusal`), then the dates and the doctor.
    ``active`` and ``place_doctors`` (the place's active doctors): read here unless given."""
    today = timezone.localdate()
    now = timezone.now()
    if active is None:
        active = booking_selectors.appointments_list_active(patient, now)
    code = rules.booking_refusal(
        patient, actor_id, clinic=clinic, specialty=specialty, active=active, now=now
    )
    if code:
        return code
    if date_to < date_from:
        return "dates_order"
    if date_from < today:
        return "dates_past"
    if date_to > today + datetime.timedelta(days=settings.WAITLIST_MAX_DAYS):
        return "dates_too_far"
    if place_doctors is None:
        place_doctors = selectors.places_doctors([(clinic.pk, specialty.pk)])[
            clinic.pk, specialty.pk
        ]
    if not place_doctors:
        return "place_unknown"
    return "doctor_unknown" if doctor is not None and doctor.pk not in place_doctors else None


def _join_refusal_told(actor: User, patient: Patient, code: str) -> str:
    """What a refused join tells the actor. An unverified guardian sees only what they did
    (docs/security.md, «one rule of visibility»): the others' booking or waitlist entry in
    the way is not named — not its specialty, not its time."""
    if not booking_selectors.conflicts_hidden_from(actor, patient):
        return code
    hidden = booking_selectors.refusal_told(code, conflicts_hidden=True) == "conflict_unseen"
    return "waiting_unseen" if hidden or code == "already_waiting" else code


def entry_join(
    *,
    actor: User,
    patient: Patient,
    clinic_id: int,
    specialty_id: int,
    doctor_id: int | None,
    date_from: datetime.date,
    date_to: datetime.date,
    times: str,
    ip: str | None,
) -> WaitlistEntry:
    """Put ``patient`` on the waitlist for a specialty at a clinic (or one doctor there),
    within the dates and parts of the day; raises WaitlistRefused with a Russian text.

    The booking rules that would refuse a booking refuse joining too, and are checked
    again whenever an offer is made. One live entry per patient per specialty (the
    database's `waitlist_entry_live_unique`).
    """
    if patient.pk not in patient_ids_actable_by(actor):
        raise WaitlistRefused("not_yours")
    clinic = Clinic.objects.filter(pk=clinic_id).first()
    specialty = Specialty.objects.filter(pk=specialty_id).first()
    doctor = Doctor.objects.filter(pk=doctor_id).first() if doctor_id is not None else None
    if clinic is None or specialty is None:
        raise WaitlistRefused("place_unknown")
    if doctor_id is not None and doctor is None:
        raise WaitlistRefused("doctor_unknown")
    times = _times_clean(times)
    code = entry_join_refusal(
        actor_id=actor.pk,
        patient=patient,
        clinic=clinic,
        specialty=specialty,
        doctor=doctor,
        date_from=date_from,
        date_to=date_to,
    )
    if code:
        raise WaitlistRefused(_join_refusal_told(actor, patient, code))
    try:
        with transaction.atomic(durable=True):
            # An entry whose dates are over is not live any more, whatever its row says.
            WaitlistEntry.objects.filter(
                patient=patient,
                specialty=specialty,
                status=WaitlistEntry.Status.WAITING,
                date_to__lt=timezone.localdate(),
            ).update(status=WaitlistEntry.Status.ENDED, ended_at=timezone.now())
            entry = WaitlistEntry.objects.create(
                patient=patient,
                created_by=actor,
                clinic=clinic,
                specialty=specialty,
                doctor=doctor,
                date_from=date_from,
                date_to=date_to,
                times=times,
            )
            audit_record(
                AuditAction.WAITLIST_JOINED,
                actor=actor,
                ip=ip,
                patient=patient,
                entry=entry.pk,
                clinic=clinic.pk,
                specialty=specialty.pk,
                **({"doctor": doctor.pk} if doctor is not None else {}),
                date_from=date_from.isoformat(),
                date_to=date_to.isoformat(),
                times=times,
            )
    except IntegrityError as exc:
        raise WaitlistRefused(_join_refusal_told(actor, patient, "already_waiting")) from exc
    try:
        _offer_free_now(entry)
    except Exception:  # the entry stands; the next freed slot finds it anyway
        logger.exception("offering free times to waitlist entry %s failed", entry.pk)
    return entry


JOIN_FREE_SLOTS_TRIED = 5


def _offer_free_now(entry: WaitlistEntry) -> None:
    """Right after joining, a free time that fits is offered at once rather than left
    to the next cancellation (it may have freed while the patient filled in the form).
    It goes through `slot_freed`, so whoever waits longer still comes first."""
    for slot_id in selectors.slots_free_for_entry(entry, limit=JOIN_FREE_SLOTS_TRIED):
        offer = slot_freed(slot_id)
        if offer is not None and offer.entry_id == entry.pk:
            return


def entry_leave(*, actor: User, entry: WaitlistEntry, ip: str | None) -> WaitlistEntry:
    """Leave the waitlist (the caller fetched ``entry`` with `entry_get_for_user`).

    An offer out for the entry is withdrawn and its hold released, so the time goes to
    the next in line. Leaving twice is harmless.
    """
    now = timezone.now()
    with transaction.atomic(durable=True):
        left = WaitlistEntry.objects.filter(pk=entry.pk, status__in=WaitlistEntry.LIVE).update(
            status=WaitlistEntry.Status.LEFT, ended_at=now
        )
        if left != 1:
            raise WaitlistRefused("entry_not_live")
        audit_record(
            AuditAction.WAITLIST_LEFT, actor=actor, ip=ip, patient=entry.patient, entry=entry.pk
        )
    for offer in Offer.objects.filter(entry=entry, status=Offer.Status.OFFERED):
        _offer_end(offer, Offer.Status.WITHDRAWN, actor=actor, ip=ip)
    entry.refresh_from_db()
    return entry


# --- answering an offer -------------------------------------------------------------------


def _offer_end(
    offer: Offer,
    status: str,
    *,
    actor: User | None,
    ip: str | None,
    now: datetime.datetime | None = None,
    offer_next: bool = True,
) -> bool:
    """End a live offer (declined, expired, withdrawn): release its hold and give the
    slot to the next in line. False if the offer had already ended (a twin request)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        ended = Offer.objects.filter(pk=offer.pk, status=Offer.Status.OFFERED).update(
            status=status, decided_at=now
        )
        if ended != 1:
            return False
        booking.slot_hold_release(slot_id=offer.slot_id, patient_id=offer.patient_id)
        if offer.entry_id is not None:
            WaitlistEntry.objects.filter(
                pk=offer.entry_id, status=WaitlistEntry.Status.OFFERED
            ).update(status=WaitlistEntry.Status.WAITING)
        # A withdrawal (the patient left the waitlist) is journalled as a decline.
        action = (
            AuditAction.OFFER_EXPIRED
            if status == Offer.Status.EXPIRED
            else AuditAction.OFFER_DECLINED
        )
        audit_record(
            action,
            actor=actor,
            ip=ip,
            patient=offer.patient,
            offer=offer.pk,
            slot=offer.slot_id,
            **({"withdrawn": True} if status == Offer.Status.WITHDRAWN else {}),
        )
    if offer_next:
        slot_freed(offer.slot_id)
    return True


def _offer_mark_taken(
    offer: Offer, appointment: Appointment, actor: User | None, ip: str | None
) -> None:
    """The booking went through: the offer is taken (even if it lapsed a moment ago —
    the patient has the time) and its entry is done."""
    with transaction.atomic(durable=True):
        marked = Offer.objects.filter(
            pk=offer.pk, status__in=[Offer.Status.OFFERED, Offer.Status.EXPIRED]
        ).update(status=Offer.Status.TAKEN, appointment=appointment, decided_at=timezone.now())
        if offer.entry_id is not None:
            WaitlistEntry.objects.filter(pk=offer.entry_id, status__in=WaitlistEntry.LIVE).update(
                status=WaitlistEntry.Status.BOOKED, ended_at=timezone.now()
            )
        if marked == 1:
            audit_record(
                AuditAction.OFFER_TAKEN,
                actor=actor,
                ip=ip,
                patient=offer.patient,
                offer=offer.pk,
                appointment=appointment.pk,
            )


def offer_take(
    *, actor: User, offer: Offer, ip: str | None = None, device: str | None = None
) -> Appointment:
    """Book the offered slot with one click (the caller fetched ``offer`` with
    `offer_get_for_user`). Idempotent: a double click or a second guardian gets the
    appointment the first click made. Raises WaitlistRefused with a Russian text.

    The booking service decides under its locks; the hold makes the slot bookable by
    this patient alone until it expires.
    """
    offer.refresh_from_db()
    if offer.status == Offer.Status.TAKEN and offer.appointment is not None:
        return offer.appointment
    if offer.status != Offer.Status.OFFERED:
        raise WaitlistRefused("offer_not_live")
    if offer.expires_at <= timezone.now():
        raise WaitlistRefused("offer_expired")
    patient = Patient.objects.select_related("clinic").get(pk=offer.patient_id)
    try:
        result = booking.appointment_book(
            actor=actor,
            patient=patient,
            slot_id=offer.slot_id,
            idempotency_key=offer.key,
            ip=ip,
            device=device,
        )
    except BookingRefused as refused:
        # Another guardian's click on this offer may have won a moment earlier: its
        # booking carries the offer's key (the offer may not say "taken" yet).
        won = _booked_by_offer(offer)
        if won is not None:
            _offer_mark_taken(offer, won, None, None)
            return won
        offer.refresh_from_db()
        # Held for someone else: ours ended (lapsed, and the slot went to the next).
        lapsed = offer.expires_at <= timezone.now() or offer.status == Offer.Status.EXPIRED
        if refused.code == "slot_held" or (refused.code == "slot_taken" and lapsed):
            raise WaitlistRefused("offer_expired") from refused
        raise WaitlistRefused(refused.code) from refused
    _offer_mark_taken(offer, result.appointment, actor, ip)
    return result.appointment


def offer_decline(*, actor: User, offer: Offer, ip: str | None = None) -> Offer:
    """Decline an offer: the hold ends and the time goes to the next in line. A waitlist
    entry keeps its place for other times. Declining twice is harmless."""
    now = timezone.now()
    offer.refresh_from_db()
    if offer.status != Offer.Status.OFFERED:
        if offer.status in (Offer.Status.DECLINED, Offer.Status.EXPIRED):
            return offer
        raise WaitlistRefused("offer_not_live")
    status = Offer.Status.DECLINED if offer.expires_at > now else Offer.Status.EXPIRED
    _offer_end(offer, status, actor=actor, ip=ip, now=now)
    offer.refresh_from_db()
    return offer


# --- expiry -------------------------------------------------------------------------------


def _booked_by_offer(offer: Offer) -> Appointment | None:
    """The appointment a click on this offer made, whoever clicked (its booking key)."""
    return Appointment.objects.filter(
        patient_id=offer.patient_id, idempotency_key=offer.key, status=Appointment.Status.BOOKED
    ).first()


def _offer_expire(offer: Offer, now: datetime.datetime, *, offer_next: bool = True) -> bool:
    """Expire one lapsed offer, unless its booking went through (a take whose last
    step never ran): then it is marked taken."""
    booked = _booked_by_offer(offer)
    if booked is not None:
        _offer_mark_taken(offer, booked, None, None)
        return False
    return _offer_end(
        offer, Offer.Status.EXPIRED, actor=None, ip=None, now=now, offer_next=offer_next
    )


def _offers_expire_for_slot(slot_id: int, now: datetime.datetime) -> None:
    """Before matching a slot, end its lapsed offer (the sweep may not have run yet);
    the caller is about to offer the slot itself, so not again from here."""
    for offer in Offer.objects.filter(
        slot_id=slot_id, status=Offer.Status.OFFERED, expires_at__lte=now
    ):
        _offer_expire(offer, now, offer_next=False)


def offers_expire(now: datetime.datetime | None = None, limit: int = 500) -> int:
    """The sweep (`manage.py waitlist_sweep`): expire lapsed offers, give their slots to
    the next in line, and end entries whose dates are over. Readers never wait for it:
    an offer past ``expires_at`` reads as expired and its hold as ended."""
    now = now or timezone.now()
    lapsed = list(
        Offer.objects.filter(status=Offer.Status.OFFERED, expires_at__lte=now).order_by(
            "expires_at"
        )[:limit]
    )
    expired = sum(1 for offer in lapsed if _offer_expire(offer, now))
    WaitlistEntry.objects.filter(
        status=WaitlistEntry.Status.WAITING, date_to__lt=timezone.localdate()
    ).update(status=WaitlistEntry.Status.ENDED, ended_at=now)
    return expired
