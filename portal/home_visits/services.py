"""Writes of home visits: create, the applicant's cancel, the clinic's accept, assign,
visited and cancel (docs/home-visits.md). Each takes plain values, opens its own
transaction, locks (the patient on create, the request on every change), re-checks the
rule under the lock, writes, audits and tells the patient and guardians."""

import datetime
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.audit.models import AuditAction
from portal.audit.services import audit_record
from portal.core.locking import busy_on_lock_timeout, lock_timeout_set
from portal.directory.models import Doctor
from portal.home_visits import locks, notify, rules
from portal.home_visits.errors import HomeVisitRefused
from portal.home_visits.models import HomeVisit
from portal.identity.models import User
from portal.patients.locks import patient_lock
from portal.patients.models import Patient
from portal.staff.permissions import staff_may_manage_clinic


@dataclass(frozen=True)
class VisitData:
    """What the form (or the API, or the clerk on the phone) gives, as typed."""

    address: str
    phone: str
    consent: bool
    symptoms: list[str] = field(default_factory=list)
    temperature: str = ""
    details: str = ""
    apartment: str = ""
    entrance: str = ""
    floor: str = ""
    intercom: str = ""
    red_flags: list[str] = field(default_factory=list)


def _refuse(code: str | None) -> None:
    if code is not None:
        raise HomeVisitRefused(code)


def visit_data_check(data: VisitData) -> dict[str, object]:
    """Every rule of the form's fields, red flags first: the clean values to store."""
    _refuse(rules.red_flag_refusal(data.red_flags))
    parts = {
        "apartment": data.apartment.strip(),
        "entrance": data.entrance.strip(),
        "floor": data.floor.strip(),
        "intercom": data.intercom.strip(),
    }
    address = " ".join(data.address.split())
    _refuse(rules.address_refusal(address, parts))
    phone = rules.phone_normalized(data.phone)
    if phone is None:
        raise HomeVisitRefused("phone_bad")
    symptoms = list(dict.fromkeys(data.symptoms))
    _refuse(rules.reason_refusal(symptoms, data.details))
    temperature, bad = rules.temperature_parsed(data.temperature)
    _refuse(bad)
    if not data.consent:
        raise HomeVisitRefused("consent_required")
    return {
        "address": address,
        **parts,
        "phone": phone,
        "symptoms": symptoms,
        "temperature": temperature,
        "details": data.details.strip(),
        "consent": True,
    }


def visit_create(
    *,
    actor: User,
    patient: Patient,
    data: VisitData,
    ip: str | None,
    by_phone: bool = False,
    now: datetime.datetime | None = None,
) -> HomeVisit:
    """A new request for ``patient`` (whom the caller has already checked ``actor`` may
    act for: `patients.services.patient_for_actor`, or a clerk's clinic scope)."""
    values = visit_data_check(data)
    with transaction.atomic(durable=True), busy_on_lock_timeout(_busy):
        lock_timeout_set()
        locked = patient_lock(patient.pk)
        _refuse(rules.attachment_refusal(locked))
        _refuse(rules.open_request_refusal(locked.pk))
        assert locked.clinic is not None
        try:
            with transaction.atomic():
                visit = HomeVisit.objects.create(
                    patient=locked,
                    applicant=actor,
                    by_phone=by_phone,
                    clinic=locked.clinic,
                    area=rules.district_of(locked),
                    day=rules.visit_day(locked.clinic, now),
                    **values,
                )
        except IntegrityError as exc:  # the constraint: one open request per patient
            raise HomeVisitRefused("already_open") from exc
        audit_record(
            AuditAction.HOME_VISIT_REQUESTED,
            actor=actor,
            ip=ip,
            patient=locked,
            visit_id=visit.pk,
            by_phone=by_phone,
            day=visit.day.isoformat(),
        )
        notify.visit_changed(visit)
    return visit


def _busy() -> HomeVisitRefused:
    return HomeVisitRefused("busy")


def visit_cancel_by_applicant(
    *, actor: User, visit_id: int, ip: str | None, reason: str = ""
) -> HomeVisit:
    """The patient or a guardian cancels, until a doctor is on the way. The caller has
    fetched the request through `selectors.visit_get_for_user`."""
    with transaction.atomic(durable=True), busy_on_lock_timeout(_busy):
        lock_timeout_set()
        visit = locks.visit_lock(visit_id)
        _refuse(rules.patient_cancel_refusal(visit))
        visit.state = HomeVisit.State.CANCELLED
        visit.cancelled_by = HomeVisit.CancelledBy.APPLICANT
        visit.cancel_reason = " ".join(reason.split())[:300]
        visit.closed_at = timezone.now()
        visit.save()
        audit_record(
            AuditAction.HOME_VISIT_CANCELLED,
            actor=actor,
            ip=ip,
            patient=visit.patient,
            visit_id=visit.pk,
            by="applicant",
        )
        notify.visit_changed(visit)
    return visit


def _clinic_visit(actor: User, visit_id: int) -> HomeVisit:
    visit = locks.visit_lock(visit_id)
    if not staff_may_manage_clinic(actor, visit.clinic_id):
        raise HomeVisitRefused("not_yours")
    return visit


def _doctor(visit: HomeVisit, doctor_id: int | None) -> Doctor:
    if doctor_id is None:
        raise HomeVisitRefused("doctor_unknown")
    doctor = Doctor.objects.filter(pk=doctor_id, clinic_id=visit.clinic_id, is_active=True).first()
    if doctor is None:
        raise HomeVisitRefused("doctor_unknown")
    return doctor


def _assign(
    visit: HomeVisit,
    doctor_id: int | None,
    start: datetime.time | None,
    end: datetime.time | None,
) -> None:
    _refuse(rules.window_refusal(start, end))
    visit.doctor = _doctor(visit, doctor_id)
    visit.window_start, visit.window_end = start, end
    visit.state = HomeVisit.State.ASSIGNED
    visit.assigned_at = timezone.now()


def _taken_by(visit: HomeVisit) -> HomeVisitRefused:
    who = visit.handled_by
    name = (who.get_full_name() or who.username) if who is not None else "—"
    return HomeVisitRefused("taken", who=name)


def visit_accept(
    *,
    actor: User,
    visit_id: int,
    ip: str | None,
    doctor_id: int | None = None,
    start: datetime.time | None = None,
    end: datetime.time | None = None,
) -> HomeVisit:
    """A clerk takes a received request, at once assigning a doctor and a window if
    given. Two clerks at once: the row lock lets one through; the other is told who."""
    with transaction.atomic(durable=True), busy_on_lock_timeout(_busy):
        lock_timeout_set()
        visit = _clinic_visit(actor, visit_id)
        if visit.state in (HomeVisit.State.ACCEPTED, HomeVisit.State.ASSIGNED):
            raise _taken_by(visit)
        if visit.state != HomeVisit.State.RECEIVED:
            raise HomeVisitRefused("not_open")
        visit.handled_by = actor
        visit.accepted_at = timezone.now()
        visit.state = HomeVisit.State.ACCEPTED
        if doctor_id is not None:
            _assign(visit, doctor_id, start, end)
        visit.save()
        _changed(visit, actor, ip, AuditAction.HOME_VISIT_ACCEPTED)
    return visit


def visit_assign(
    *,
    actor: User,
    visit_id: int,
    ip: str | None,
    doctor_id: int | None,
    start: datetime.time | None,
    end: datetime.time | None,
) -> HomeVisit:
    """A doctor and a window for an accepted request, or a new one for an assigned one."""
    with transaction.atomic(durable=True), busy_on_lock_timeout(_busy):
        lock_timeout_set()
        visit = _clinic_visit(actor, visit_id)
        if visit.state == HomeVisit.State.RECEIVED:
            raise HomeVisitRefused("not_accepted")
        if not visit.is_open:
            raise HomeVisitRefused("not_open")
        _assign(visit, doctor_id, start, end)
        visit.save()
        _changed(visit, actor, ip, AuditAction.HOME_VISIT_ASSIGNED)
    return visit


def visit_mark_visited(*, actor: User, visit_id: int, ip: str | None) -> HomeVisit:
    with transaction.atomic(durable=True), busy_on_lock_timeout(_busy):
        lock_timeout_set()
        visit = _clinic_visit(actor, visit_id)
        if visit.state != HomeVisit.State.ASSIGNED:
            raise HomeVisitRefused("not_assigned" if visit.is_open else "not_open")
        visit.state = HomeVisit.State.VISITED
        visit.closed_at = timezone.now()
        visit.save()
        _changed(visit, actor, ip, AuditAction.HOME_VISIT_VISITED)
    return visit


def visit_cancel_by_clinic(*, actor: User, visit_id: int, ip: str | None, reason: str) -> HomeVisit:
    reason = " ".join(reason.split())
    if not reason or len(reason) > 300:
        raise HomeVisitRefused("reason_required")
    with transaction.atomic(durable=True), busy_on_lock_timeout(_busy):
        lock_timeout_set()
        visit = _clinic_visit(actor, visit_id)
        if not visit.is_open:
            raise HomeVisitRefused("not_open")
        visit.state = HomeVisit.State.CANCELLED
        visit.cancelled_by = HomeVisit.CancelledBy.CLINIC
        visit.cancel_reason = reason
        visit.closed_at = timezone.now()
        visit.save()
        _changed(visit, actor, ip, AuditAction.HOME_VISIT_CANCELLED)
    return visit


def _changed(visit: HomeVisit, actor: User, ip: str | None, action: AuditAction) -> None:
    audit_record(
        action,
        actor=actor,
        ip=ip,
        patient=visit.patient,
        visit_id=visit.pk,
        state=visit.state,
        doctor_id=visit.doctor_id,
    )
    notify.visit_changed(visit)
