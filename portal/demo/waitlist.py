"""The demo's waitlist (docs/waitlist.md, «Trying it with make run»).

The ophthalmologist of «Детская поликлиника № 1» is fully booked for every time open
for booking: by demo children of one demo guardian, and one time by the persona
«Кузнецов Артём» (15, attached there), who can log in and cancel it. Two demo children
already wait for the doctor's later dates: they do not compete for the newcomer's dates,
so she is first in line for hers, and Artём's cancellation is offered to her.

Everything goes through the services (booking, joining), so the rules hold. Idempotent:
a second run books only times that opened since and adds nobody twice.
"""

import datetime
import logging
from collections.abc import Callable

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from portal.demo.accounts import demo_citizen
from portal.demo.dates import born
from portal.demo.personas import birth_date, persona_by_key
from portal.demo.registry import _policy_of
from portal.directory.models import Doctor
from portal.identity.models import User
from portal.patients.models import Guardianship, InsuredPerson, Patient, PolicyKind
from portal.scheduling import services as booking
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Appointment, Slot
from portal.scheduling.selectors import bookable_q
from portal.waitlist import services as waitlist
from portal.waitlist.models import WaitlistEntry

CLINIC = "Детская поликлиника № 1"
SPECIALTY = "ophthalmologist"
GUARDIAN = "demo-waitlist-guardian"
WAITING_AHEAD = 2
FIRST_NAMES = [("M", "Илья"), ("F", "Полина"), ("M", "Макар"), ("F", "Ева"), ("M", "Тимофей")]


def _guardian() -> tuple[User, Patient]:
    return demo_citizen(
        GUARDIAN, ("Демонстрационная", "Галина", "Петровна"), sex="F", birth_date=born(40, 10)
    )


def _child(guardian: Patient, doctor: Doctor, n: int) -> Patient:
    sex, first = FIRST_NAMES[n % len(FIRST_NAMES)]
    child = Patient.objects.create(
        last_name="Демонстрационный" if sex == "M" else "Демонстрационная",
        first_name=first,
        middle_name=f"№ {n}",
        birth_date=born(5 + n % 8, n % 300),
        sex=sex,
        policy_kind=PolicyKind.UNIFIED,
        policy_number=f"77{n:014d}",
        clinic=doctor.clinic,
    )
    Guardianship.objects.create(
        guardian=guardian,
        child=child,
        relation=Guardianship.Relation.SON if sex == "M" else Guardianship.Relation.DAUGHTER,
        source=Guardianship.Source.MANUAL,
        verified_at=timezone.now(),
        verified_how=Guardianship.Verification.CLINIC,
    )
    return child


def _artem() -> tuple[User, Patient]:
    """Artём's account and record as his first ESIA login would make them (the login
    finds and updates them by the oid)."""
    person = persona_by_key("artem")
    oid = person["oid"]
    user, created = User.objects.get_or_create(
        esia_oid=oid,
        defaults={
            "username": f"esia-{oid}",
            "last_name": person["lastName"],
            "first_name": person["firstName"],
        },
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    patient = Patient.objects.filter(esia_oid=oid).first()
    if patient is None:
        kind, series, number = _policy_of(person)
        insured = InsuredPerson.objects.filter(policy_series=series, policy_number=number).first()
        patient = Patient.objects.create(
            user=user,
            esia_oid=oid,
            last_name=person["lastName"],
            first_name=person["firstName"],
            middle_name=person.get("middleName", ""),
            birth_date=birth_date(person),
            sex=person["gender"],
            policy_kind=kind,
            policy_series=series,
            policy_number=number,
            insurer=insured.insurer if insured else None,
            clinic=insured.clinic if insured else None,
            area=insured.area if insured else "",
        )
    return user, patient


def _book(actor: User, patient: Patient, slot_id: int) -> bool:
    import uuid

    try:
        booking.appointment_book(
            actor=actor, patient=patient, slot_id=slot_id, idempotency_key=uuid.uuid4()
        )
    except BookingRefused:
        return False
    return True


def load(scale: int = 1, log: Callable[[str], None] = print) -> None:
    doctor = (
        Doctor.objects.filter(clinic__short_name=CLINIC, specialty__code=SPECIALTY, is_active=True)
        .select_related("clinic", "specialty")
        .order_by("pk")
        .first()
    )
    if doctor is None:
        log(f"Лист ожидания: нет врача «{SPECIALTY}» в «{CLINIC}», пропущено")
        return
    now = timezone.now()
    free = list(
        Slot.objects.filter(bookable_q(now), doctor=doctor)
        .order_by("starts_at")
        .values_list("pk", flat=True)
    )
    guardian_user, guardian = _guardian()
    artem_user, artem = _artem()
    booked = 0
    has_own = Appointment.objects.filter(
        patient=artem, specialty=doctor.specialty, status="booked", starts_at__gt=now
    ).exists()
    if free and not has_own and _book(artem_user, artem, free.pop(0)):
        booked += 1
    children = Patient.objects.filter(guardians__guardian=guardian).order_by("pk")
    idle = [
        c
        for c in children.exclude(
            Q(appointments__status="booked", appointments__starts_at__gt=now)
            | Q(waitlist_entries__status__in=WaitlistEntry.LIVE)
        ).distinct()
    ]
    n = children.count()
    # The booking service logs every booking; two hundred lines would bury make run's
    # instructions.
    quiet = logging.getLogger("portal.scheduling.services")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        for slot_id in free:
            child = idle.pop() if idle else _child(guardian, doctor, n := n + 1)
            booked += _book(guardian_user, child, slot_id)
    finally:
        quiet.setLevel(level)
    waiting = WaitlistEntry.objects.filter(
        patient__guardians__guardian=guardian, status__in=WaitlistEntry.LIVE
    ).count()
    # They wait for the doctor's dates after the booking horizon: never matched with
    # today's times nor ahead of a newcomer for them, so her offer comes at once.
    later = timezone.localdate() + datetime.timedelta(days=settings.SCHEDULING_HORIZON_DAYS + 3)
    for _ in range(WAITING_AHEAD - waiting):
        child = _child(guardian, doctor, n := n + 1)
        waitlist.entry_join(
            actor=guardian_user,
            patient=child,
            clinic_id=doctor.clinic_id,
            specialty_id=doctor.specialty_id,
            doctor_id=None,
            date_from=later,
            date_to=later + datetime.timedelta(days=7),
            times="",
            ip=None,
        )
    log(
        f"Лист ожидания: {doctor.specialty.name} в «{CLINIC}» занят ({booked} новых записей), "
        f"в очереди {max(waiting, WAITING_AHEAD)}; запись Кузнецова Артёма можно отменить"
    )
